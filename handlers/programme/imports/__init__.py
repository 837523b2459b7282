"""Importing the union tree, brands and member lists from CSV or XLSX.

Every row is checked before anything is written; any bad row fails the whole import with
its line number (the header is line 1), so nothing is ever half-imported. Re-importing the
same codes updates the rows in place. ``files`` reads a file into rows; ``unions``, ``brands``
and ``members`` check and write one kind each.
"""
