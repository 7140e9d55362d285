"""AutoThrottle that keeps each site's own minimum delay from the sources file.

Scrapy's AutoThrottle lowers a slot's delay as far as the global DOWNLOAD_DELAY when the server
answers fast; a site's `delay` in sources.toml (DOWNLOAD_SLOTS) must stay a floor, since it is
what its publisher asked for. Enabled by crawler.settings in place of Scrapy's.
"""

from __future__ import annotations

from scrapy.core.downloader import Slot
from scrapy.crawler import Crawler
from scrapy.extensions.throttle import AutoThrottle
from scrapy.http import Response


class SiteThrottle(AutoThrottle):
    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        slots = crawler.settings.getdict("DOWNLOAD_SLOTS")
        self.floors = {key: float(value["delay"]) for key, value in slots.items() if value.get("delay") is not None}

    def _adjust_delay(self, slot: Slot, latency: float, response: Response) -> None:
        super()._adjust_delay(slot, latency, response)
        key = (response.request.meta.get("download_slot") if response.request is not None else None) or ""
        floor = self.floors.get(key)
        if floor is not None and slot.delay < floor:
            slot.delay = floor
