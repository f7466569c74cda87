"""Parsing untrusted XML without external entities, entity expansion or network access."""

from __future__ import annotations

from lxml import etree

from datas_core.alerts.errors import AlertParseError

# No DTD loading, no entity substitution, no network, libxml2's default size and depth limits.
_PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    huge_tree=False,
    load_dtd=False,
    dtd_validation=False,
    remove_comments=True,
    remove_pis=True,
)


def parse_xml(data: bytes) -> etree._Element:
    """The root element; a document with any DOCTYPE is refused (VOEvents never carry one).

    Refusing the DOCTYPE outright covers external entities (file:///etc/passwd) and entity
    expansion bombs alike; libxml2 already stops amplification before we get to look.
    """
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise AlertParseError(f"XML is not well formed or is unsafe: {exc}") from None
    except (ValueError, etree.LxmlError) as exc:
        raise AlertParseError(f"XML could not be read: {exc}") from None
    if root is None:
        raise AlertParseError("XML document is empty")
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise AlertParseError(
            "XML with a DOCTYPE is refused: entity declarations (external files, expansion "
            "bombs) are not accepted in alerts"
        )
    return root


def local_name(element: etree._Element) -> str:
    """The tag without its namespace ('voe:VOEvent', 'VOEvent' and STC tags alike)."""
    tag = element.tag
    if not isinstance(tag, str):  # comments, processing instructions, entities
        return ""
    return tag.rsplit("}", 1)[-1]


def children(element: etree._Element, name: str) -> list[etree._Element]:
    return [child for child in element if local_name(child) == name]


def child(element: etree._Element | None, *path: str) -> etree._Element | None:
    """The first element along a path of local names, or None."""
    for name in path:
        if element is None:
            return None
        found = children(element, name)
        element = found[0] if found else None
    return element


def descendants(element: etree._Element, name: str) -> list[etree._Element]:
    return [el for el in element.iter() if local_name(el) == name]


def text_of(element: etree._Element | None) -> str | None:
    if element is None or element.text is None:
        return None
    value = element.text.strip()
    return value or None
