"""Hybrid search ("who else has tried this?"): filters, fusion, entry aggregation, highlights."""
