// A tiny, strict XML parser for tests: enough to walk JUnit output back into a tree (no new packages).
// It throws on anything malformed, so a broken serializer fails the test instead of passing by regex luck.

export interface XmlTree {
  name: string;
  attrs: Record<string, string>;
  children: XmlTree[];
  /** Concatenated text and CDATA directly inside this element. */
  text: string;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decode(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|\w+);/g, (whole, name: string) => {
    if (name.startsWith('#x')) return String.fromCodePoint(Number.parseInt(name.slice(2), 16));
    if (name.startsWith('#')) return String.fromCodePoint(Number(name.slice(1)));
    const v = ENTITIES[name];
    if (v === undefined) throw new Error(`unknown entity ${whole}`);
    return v;
  });
}

export function parseXml(source: string): XmlTree {
  let i = 0;
  const fail = (what: string): never => {
    throw new Error(`XML: ${what} at offset ${i}: ${JSON.stringify(source.slice(i, i + 40))}`);
  };
  const skipSpace = () => {
    while (i < source.length && /\s/.test(source[i] as string)) i++;
  };
  skipSpace();
  if (source.startsWith('<?xml', i)) {
    const end = source.indexOf('?>', i);
    if (end < 0) fail('unterminated declaration');
    i = end + 2;
  }
  skipSpace();
  const parseElement = (): XmlTree => {
    if (source[i] !== '<') fail('expected <');
    i++;
    const nameMatch = /^[A-Za-z_][\w.:-]*/.exec(source.slice(i));
    if (!nameMatch) return fail('expected an element name');
    const name = nameMatch[0];
    i += name.length;
    const attrs: Record<string, string> = {};
    for (;;) {
      skipSpace();
      if (source.startsWith('/>', i)) {
        i += 2;
        return { name, attrs, children: [], text: '' };
      }
      if (source[i] === '>') {
        i++;
        break;
      }
      const attr = /^([A-Za-z_][\w.:-]*)="([^"<]*)"/.exec(source.slice(i));
      if (!attr) return fail(`bad attribute in <${name}>`);
      const key = attr[1] as string;
      if (key in attrs) fail(`duplicate attribute ${key}`);
      attrs[key] = decode(attr[2] as string);
      i += attr[0].length;
    }
    const node: XmlTree = { name, attrs, children: [], text: '' };
    for (;;) {
      if (i >= source.length) fail(`unclosed <${name}>`);
      if (source.startsWith('<![CDATA[', i)) {
        const end = source.indexOf(']]>', i);
        if (end < 0) fail('unterminated CDATA');
        node.text += source.slice(i + 9, end);
        i = end + 3;
      } else if (source.startsWith('</', i)) {
        const close = `</${name}>`;
        if (!source.startsWith(close, i)) fail(`expected ${close}`);
        i += close.length;
        return node;
      } else if (source[i] === '<') {
        node.children.push(parseElement());
      } else {
        const next = source.indexOf('<', i);
        const chunk = source.slice(i, next < 0 ? source.length : next);
        if (chunk.includes('>') && chunk.includes(']]>')) fail('stray ]]> in text');
        node.text += decode(chunk);
        i += chunk.length;
      }
    }
  };
  const root = parseElement();
  skipSpace();
  if (i !== source.length) fail('content after the root element');
  return root;
}

/** All descendants (depth-first) with this element name. */
export function findAll(tree: XmlTree, name: string): XmlTree[] {
  const out: XmlTree[] = [];
  const walk = (n: XmlTree) => {
    for (const c of n.children) {
      if (c.name === name) out.push(c);
      walk(c);
    }
  };
  walk(tree);
  return out;
}
