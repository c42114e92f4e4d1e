"""Item pipelines, one job each, in this order (``ITEM_PIPELINES`` in settings):

1. ``validation.ValidationPipeline`` (100): drop items without a title, a body,
   or a possible publication date.
2. ``spam.SpamPipeline`` (200): remove link-spam blocks from the body, compose
   ``body`` and ``images`` from the blocks kept, drop pages that are spam whole.
3. ``duplicates.DuplicatesPipeline`` (300): compute ``content_hash``; drop copies
   of a story delivered earlier or already in this run (same URL, id or text, or a
   near copy); set ``version``: a revisit whose text changed is the next version
   of its story, one unchanged is dropped.
4. ``schema.SchemaPipeline`` (800): check the item against the output's JSON
   Schema (``newscrawl/schemas/article.schema.json``); drop it if it does not fit.
5. ``output.JsonLinesOutputPipeline`` (900): write the run's JSON Lines files as
   ``.part``, rename them into place; the run (``newscrawl.run``) names them in
   its manifest, then marks their stories delivered.

Every drop raises a ``newscrawl.drops`` exception: Scrapy counts it under
``item_dropped_reasons_count/<Reason>`` and the run (``newscrawl.run.Run``)
records the outcome in the state.
"""
