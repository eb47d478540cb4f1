"""Read side of the heatmap pages: query parsing, snapshot choice, window reduction, share links."""
