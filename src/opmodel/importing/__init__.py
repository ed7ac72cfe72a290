"""Import files: parsed (:mod:`.parse`), validated (:mod:`.validate`), applied (:mod:`.run`)."""
