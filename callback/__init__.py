"""Callback requests: the web form, the status page, the JSON API, and the rules behind them."""
