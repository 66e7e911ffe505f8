"""The warehouse usage source: daily usage (or raw events, rolled up) from any SQLAlchemy URL.

connector.py  the Connector and its `build` factory (entry point `warehouse`)
options.py    its options, validated over the defaults in warehouse.yaml
sql.py        the statements: a stream's rows by field name, keyset pages, error classes
"""

from connectors.warehouse.connector import WarehouseConnector, build

__all__ = ["WarehouseConnector", "build"]
