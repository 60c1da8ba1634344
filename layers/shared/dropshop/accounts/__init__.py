"""Customer accounts: the records the data pipeline ingests."""
