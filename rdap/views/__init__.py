"""HTTP channels: Flask blueprints (thin: parse, call a service or the pipeline, render)."""
