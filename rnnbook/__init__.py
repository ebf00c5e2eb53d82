from rnnbook.records import record as record

__version__ = "0.1.0"
