"""Binance USDⓈ-M futures: a first-party liqsite exchange plugin."""
