"""riskmap spatial core: models, database, importers, risk rules — no HTTP, no HTML."""
