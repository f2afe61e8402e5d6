"""Numbered pages (页码) for the desk's lists: one helper and one pager template
(opsdesk/_pager.html), whichever app's list it is."""

from __future__ import annotations

from django.core.paginator import Page, Paginator

__all__ = ["numbered_page"]


def numbered_page(items, per_page: int, number) -> Page:
    """The page `number` of `items`, with `numbers`: the page numbers its pager shows (the first, the last,
    those around the current one, Paginator.ELLIPSIS between)."""
    page = Paginator(items, per_page).get_page(number)
    page.numbers = list(page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1))
    return page
