"""What every extraction worker would otherwise import and build for itself, done once in the
workers' fork server (pipelines.workers): the extractor's imports and dateparser's tables for
every language (htmldate's extensive search compiles them on first use: 1.5 s of CPU). Workers
forked from the server start with them; each call's result is the same as in a fresh process.
"""

from __future__ import annotations

import archive.extract  # noqa: F401 - imported for the workers
from htmldate.extractors import get_external_parser

#: A text no language's parser accepts, so that dateparser builds the tables of every language it
#: tries (a text it reads in English would stop after English's).
get_external_parser().get_date_data("Published 3 March 2020")
