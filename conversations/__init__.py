"""Where conversations are kept (a SQL tracker store) and how long (the retention purge)."""
