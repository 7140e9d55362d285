"""The bundled sample site and the small static server that the demo and the tests crawl."""
