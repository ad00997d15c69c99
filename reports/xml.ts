// A tiny XML serializer for JUnit: elements, escaped attributes and text, CDATA that survives "]]>".

export interface XmlElement {
  name: string;
  attributes?: Record<string, string | number | undefined>;
  children?: XmlNode[];
}

export type XmlNode = XmlElement | { text: string } | { cdata: string };

// XML 1.0 forbids most C0 control characters even when escaped; tools' output sometimes contains them.
// biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point.
const INVALID_XML_CHARS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;

/** Escapes text for element content and attribute values (quotes included, so it is safe in both). */
export function escapeXml(text: string): string {
  return text
    .replace(INVALID_XML_CHARS, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** A CDATA section; a "]]>" inside is split across two sections, the standard way to carry it. */
export function formatCdata(text: string): string {
  return `<![CDATA[${text.replace(INVALID_XML_CHARS, '').replace(/]]>/g, ']]]]><![CDATA[>')}]]>`;
}

export function element(
  name: string,
  attributes: XmlElement['attributes'] = {},
  children: XmlNode[] = [],
): XmlElement {
  return { name, attributes, children };
}

function renderNode(node: XmlNode, indent: string, out: string[]): void {
  if ('text' in node) {
    out.push(`${indent}${escapeXml(node.text)}`);
    return;
  }
  if ('cdata' in node) {
    out.push(`${indent}${formatCdata(node.cdata)}`);
    return;
  }
  const attrs = Object.entries(node.attributes ?? {})
    .filter((entry): entry is [string, string | number] => entry[1] !== undefined)
    .map(([k, v]) => ` ${k}="${escapeXml(String(v))}"`)
    .join('');
  const children = node.children ?? [];
  if (children.length === 0) {
    out.push(`${indent}<${node.name}${attrs}/>`);
    return;
  }
  // Text-only elements stay on one line so whitespace is not added to their content.
  if (children.every((c) => !('name' in c))) {
    const inner: string[] = [];
    for (const c of children) renderNode(c, '', inner);
    out.push(`${indent}<${node.name}${attrs}>${inner.join('')}</${node.name}>`);
    return;
  }
  out.push(`${indent}<${node.name}${attrs}>`);
  for (const c of children) renderNode(c, `${indent}  `, out);
  out.push(`${indent}</${node.name}>`);
}

/** Serializes a document with the XML declaration. */
export function renderXml(root: XmlElement): string {
  const out = ['<?xml version="1.0" encoding="UTF-8"?>'];
  renderNode(root, '', out);
  return `${out.join('\n')}\n`;
}
