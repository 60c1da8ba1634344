"""The data pipeline: JSON files and API records → validation → WriterQueue → AccountTable, failures → LogTable."""
