"""OKX v5 perpetual swaps (USDT- and coin-margined): a first-party liqsite exchange plugin."""
