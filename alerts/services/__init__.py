"""Write-side operations of the alerts app (reads live in ``alerts.selectors``)."""
