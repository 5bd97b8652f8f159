"""How a model shows itself: a one-line repr, an HTML view for notebooks, and `simulate info`'s text."""
from __future__ import annotations

import html.parser

import simulate
from tests.helpers import CHATGPT, PRIORS


def test_repr_is_one_short_line():
    model = simulate.load(CHATGPT)
    text = repr(model)
    assert len(text) < 200 and "\n" not in text
    assert text == (f"<Model 'chatgpt-2023-01': 2023-01-01 to 2023-01-31 (31 days), {len(model.parameters)} "
                    f"parameters, {len(model.outputs)} outputs, 3 scenarios>")
    assert "scenario ludvigsen_high" in repr(model.with_scenario("ludvigsen_high"))


class _Collect(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.text, self.links = [], [], []

    def handle_starttag(self, tag, attrs):
        if tag != "br":                  # a void element: no end tag
            self.tags.append(tag)
        self.links += [v for k, v in attrs if k == "href"]

    def handle_endtag(self, tag):
        assert self.tags and tag in self.tags, tag
        self.tags.remove(tag)

    def handle_data(self, data):
        self.text.append(data)


def test_html_repr_is_well_formed_and_lists_what_the_model_declares():
    for path in sorted(PRIORS.glob("*.toml")):
        model = simulate.load(path)
        page = model._repr_html_()
        parser = _Collect()
        parser.feed(page)
        parser.close()
        assert parser.tags == [], path              # every tag closed
        text = " ".join(parser.text)
        for name in list(model.outputs) + list(model.parameters) + list(model.scenarios):
            assert name in text, (path.name, name)
        assert all(url.startswith("http") for url in parser.links) and parser.links
        assert len(page) < 60_000
