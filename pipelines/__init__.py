"""Scrapy item pipelines: thin adapters from crawled pages to archive/ (extract, then store)."""
