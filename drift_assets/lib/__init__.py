"""Plain helpers with no Dagster imports: schema, data generation, loading, quality, training."""
