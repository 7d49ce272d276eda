"""riskmap HTTP service (FastAPI): thin routers over geo/ and layers/."""
