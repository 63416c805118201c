"""The market-data layer: instruments, synthetic and imported days, replay, candles and indicators.

Plain Python (numpy, pyarrow, talipp); nothing here imports Django. docs/marketdata.md describes the
units, formats and contract facts; the modules are:

- `symbols`: canonical symbols
- `universe`: the underlyings' dated contract facts and calendar corrections, as read from the data file
- `calendar`: exchange time and the trading calendar
- `instruments`: contract rules: expiry and strike selection, lot sizes
- `broker_symbols`: broker trading symbols (their form depends on the contract calendar)
- `day`, `store`: `MarketDay`, its Parquet files and `load_day`
- `synthetic`, `pricing`: the deterministic synthetic market
- `importer`, `import_validation`: all-or-nothing import of real data; reading and checking one file
- `feed`, `candles`, `indicators`: replay, candles and incremental indicators
"""
