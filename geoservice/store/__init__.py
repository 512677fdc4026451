"""PostgreSQL: the pool, the embedded cluster, the registry of what is published, and the
names the loaders and the server share (tables.py). The floor below both."""
