"""Scrapy project: what to fetch. Everything about keeping pages lives in archive/."""
