"""The opmodel command line (installed as the ``opmodel`` command)."""
