"""The market-data layer: instruments, synthetic and imported days, replay, candles and indicators.

Plain Python (numpy, pyarrow, talipp); nothing here imports Django. docs/marketdata.md describes the
units, formats and contract facts; the modules are:

- `symbols`: canonical and broker symbols
- `instruments`: underlyings, dated contract facts, expiry and strike selection
- `sessions`: exchange time and the trading calendar
- `day`, `store`: `MarketDay`, its Parquet files and `load_day`
- `synthetic`, `pricing`: the deterministic synthetic market
- `importer`: all-or-nothing import of real data
- `feed`, `candles`, `indicators`: replay, candles and incremental indicators
"""
