"""Bybit v5 (USDT/USDC linear and inverse contracts): a first-party liqsite exchange plugin."""
