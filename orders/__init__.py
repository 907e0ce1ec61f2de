"""Order, shipment and return status: a lookup port, a built-in SQL store fed by an import, an HTTP adapter."""
