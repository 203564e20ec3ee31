// open_clip's text cleaning before BPE (tokenizer.py, 2.26.1, clean="lower"):
//   whitespace_clean(basic_clean(text)).lower()
//   basic_clean = ftfy.fix_text, then html.unescape twice, then strip.
// ftfy is reproduced for the fixes that change clinical captions (entities, curly
// quotes, ligatures, full-width forms, C1/control characters, line breaks, NFC);
// its mojibake repair (fix_encoding) is not: such text is passed through as is.

// Python's str.isspace() set, used by str.split() and str.strip(); differs from JS \s
// (Python adds U+001C-U+001F and U+0085; JS adds U+FEFF).
const PY_SPACE = "\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const PY_SPACE_RUN = new RegExp(`[${PY_SPACE}]+`, "g");
const PY_STRIP = new RegExp(`^[${PY_SPACE}]+|[${PY_SPACE}]+$`, "g");

/** Python's str.strip(). */
export function pyStrip(text: string): string {
  return text.replace(PY_STRIP, "");
}

/** open_clip whitespace_clean: " ".join(text.split()). */
export function whitespaceClean(text: string): string {
  return pyStrip(text).replace(PY_SPACE_RUN, " ");
}

// Windows-1252 reading of U+0080-U+009F: used by ftfy's fix_c1_controls ("sloppy" cp1252:
// undefined bytes map to themselves) and by html.unescape for &#128;-&#159; (HTML5 rule).
const CP1252_C1 = [
  0x20ac, 0x81, 0x201a, 0x192, 0x201e, 0x2026, 0x2020, 0x2021, 0x2c6, 0x2030, 0x160, 0x2039, 0x152, 0x8d, 0x17d, 0x8f,
  0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x2dc, 0x2122, 0x161, 0x203a, 0x153, 0x9d, 0x17e, 0x178
];

// HTML 4 / ISO-8859-1 entity names for U+00A0..U+00FF, in code point order; in HTML5
// these (and amp, lt, gt, quot) are the "legacy" names also recognised without ';'.
const LATIN1_NAMES = (
  "nbsp iexcl cent pound curren yen brvbar sect uml copy ordf laquo not shy reg macr deg plusmn sup2 sup3 " +
  "acute micro para middot cedil sup1 ordm raquo frac14 frac12 frac34 iquest Agrave Aacute Acirc Atilde Auml " +
  "Aring AElig Ccedil Egrave Eacute Ecirc Euml Igrave Iacute Icirc Iuml ETH Ntilde Ograve Oacute Ocirc Otilde " +
  "Ouml times Oslash Ugrave Uacute Ucirc Uuml Yacute THORN szlig agrave aacute acirc atilde auml aring aelig " +
  "ccedil egrave eacute ecirc euml igrave iacute icirc iuml eth ntilde ograve oacute ocirc otilde ouml divide " +
  "oslash ugrave uacute ucirc uuml yacute thorn yuml"
).split(" ");

// Common named entities that need the ';' (a subset of HTML5's table).
const NAMED_WITH_SEMICOLON: Record<string, number> = {
  apos: 0x27, OElig: 0x152, oelig: 0x153, Scaron: 0x160, scaron: 0x161, Yuml: 0x178, fnof: 0x192, circ: 0x2c6,
  tilde: 0x2dc, Alpha: 0x391, Beta: 0x392, Gamma: 0x393, Delta: 0x394, Omega: 0x3a9, alpha: 0x3b1, beta: 0x3b2,
  gamma: 0x3b3, delta: 0x3b4, epsilon: 0x3b5, theta: 0x3b8, lambda: 0x3bb, mu: 0x3bc, pi: 0x3c0, sigma: 0x3c3,
  tau: 0x3c4, phi: 0x3c6, omega: 0x3c9, ensp: 0x2002, emsp: 0x2003, thinsp: 0x2009, zwnj: 0x200c, zwj: 0x200d,
  lrm: 0x200e, rlm: 0x200f, ndash: 0x2013, mdash: 0x2014, lsquo: 0x2018, rsquo: 0x2019, sbquo: 0x201a,
  ldquo: 0x201c, rdquo: 0x201d, bdquo: 0x201e, dagger: 0x2020, Dagger: 0x2021, bull: 0x2022, hellip: 0x2026,
  permil: 0x2030, prime: 0x2032, Prime: 0x2033, lsaquo: 0x2039, rsaquo: 0x203a, euro: 0x20ac, trade: 0x2122,
  larr: 0x2190, uarr: 0x2191, rarr: 0x2192, darr: 0x2193, harr: 0x2194, minus: 0x2212, radic: 0x221a,
  infin: 0x221e, asymp: 0x2248, ne: 0x2260, le: 0x2264, ge: 0x2265, sim: 0x223c
};

/** name -> text for names valid without ';' (HTML5 legacy set). */
const LEGACY_ENTITIES = new Map<string, string>([
  ["amp", "&"], ["AMP", "&"], ["lt", "<"], ["LT", "<"], ["gt", ">"], ["GT", ">"], ["quot", '"'], ["QUOT", '"'],
  ["COPY", "\u00a9"], ["REG", "\u00ae"],
  ...LATIN1_NAMES.map((name, i): [string, string] => [name, String.fromCodePoint(0xa0 + i)])
]);
/** name (without '&' and ';') -> text for names valid with ';'. */
const ENTITIES = new Map<string, string>([
  ...LEGACY_ENTITIES,
  ...Object.entries(NAMED_WITH_SEMICOLON).map(([name, cp]): [string, string] => [name, String.fromCodePoint(cp)])
]);

function isInvalidCodePoint(cp: number): boolean {
  // Python html._invalid_codepoints: C0/C1 controls (bar tab/LF/FF/CR), noncharacters.
  return (
    (cp >= 0x1 && cp <= 0x8) || cp === 0xb || (cp >= 0xe && cp <= 0x1f) || (cp >= 0x7f && cp <= 0x9f) ||
    (cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) === 0xfffe
  );
}

function numericCharRef(cp: number): string {
  if (cp === 0x00) return "\ufffd";
  if (cp === 0x0d) return "\r";
  if (cp >= 0x80 && cp <= 0x9f) return String.fromCodePoint(CP1252_C1[cp - 0x80]!);
  if ((cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) return "\ufffd";
  if (isInvalidCodePoint(cp)) return "";
  return String.fromCodePoint(cp);
}

// Python html._charref.
const CHARREF = /&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)/g;

/** Python's html.unescape (named entities: the legacy set plus common HTML5 names). */
export function htmlUnescape(text: string): string {
  if (!text.includes("&")) return text;
  return text.replace(CHARREF, (whole, ref: string) => {
    if (ref[0] === "#") {
      const hex = ref[1] === "x" || ref[1] === "X";
      const digits = ref.slice(hex ? 2 : 1).replace(/;$/, "");
      // Very long digit strings overflow to "> 0x10FFFF", as in Python.
      const cp = digits.length > 8 ? Infinity : parseInt(digits, hex ? 16 : 10);
      return numericCharRef(cp);
    }
    if (ref.endsWith(";")) {
      const hit = ENTITIES.get(ref.slice(0, -1));
      if (hit !== undefined) return hit;
    } else if (LEGACY_ENTITIES.has(ref)) {
      return LEGACY_ENTITIES.get(ref)!;
    }
    // Longest legacy prefix, as the HTML5 standard (and Python) decode "&copy2024".
    for (let n = ref.length - 1; n > 1; n--) {
      const hit = LEGACY_ENTITIES.get(ref.slice(0, n));
      if (hit !== undefined) return hit + ref.slice(n);
    }
    return whole;
  });
}

// ftfy.fixes.unescape_html: only complete "&...;" entities.
const FTFY_ENTITY = /&#?[0-9A-Za-z]{1,24};/g;
function ftfyUnescapeHtml(text: string): string {
  return text.replace(FTFY_ENTITY, (ref) => {
    const named = ENTITIES.get(ref.slice(1, -1));
    if (named !== undefined) return named;
    if (ref.startsWith("&#")) {
      const out = htmlUnescape(ref);
      return out.includes(";") ? ref : out;
    }
    return ref;
  });
}

// ftfy.chardata.LIGATURES: Latin ligatures (not the typographic ones of other scripts).
const LIGATURES: Record<string, string> = {
  "\u0132": "IJ", "\u0133": "ij", "\u0149": "\u02bcn", "\u01f1": "DZ", "\u01f2": "Dz", "\u01f3": "dz",
  "\u01c4": "D\u017d", "\u01c5": "D\u017e", "\u01c6": "d\u017e", "\u01c7": "LJ", "\u01c8": "Lj", "\u01c9": "lj",
  "\u01ca": "NJ", "\u01cb": "Nj", "\u01cc": "nj", "\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi",
  "\ufb04": "ffl", "\ufb05": "\u017ft", "\ufb06": "st"
};
const LIGATURE_RE = new RegExp(`[${Object.keys(LIGATURES).join("")}]`, "g");

// ftfy fix_character_width: U+FF01-U+FFEF to their NFKC forms, and the ideographic space.
const WIDE_RE = /[\u3000\uff01-\uffef]/g;
function fixCharacterWidth(text: string): string {
  return text.replace(WIDE_RE, (c) => (c === "\u3000" ? " " : c.normalize("NFKC")));
}

// ftfy remove_control_chars: C0 controls bar tab/LF/FF/CR, DEL, deprecated format chars, BOM, interlinear annotations.
const CONTROL_RE = /[\x00-\x08\x0b\x0e-\x1f\x7f\u206a-\u206f\ufeff\ufff9-\ufffc]/g;
// ftfy remove_terminal_escapes.
const TERMINAL_ESCAPE_RE = /\x1b\[[\d;]*[a-zA-Z]/g;

function ftfyStep(text: string, unescape: boolean): string {
  let out = unescape ? ftfyUnescapeHtml(text) : text;
  out = out.replace(/[\x80-\x9f]/g, (c) => String.fromCodePoint(CP1252_C1[c.charCodeAt(0) - 0x80]!)); // fix_c1_controls
  out = out.replace(LIGATURE_RE, (c) => LIGATURES[c]!); // fix_latin_ligatures
  out = fixCharacterWidth(out);
  out = out.replace(/[\u201c-\u201f]/g, '"').replace(/[\u02bc\u2018-\u201b]/g, "'"); // uncurl_quotes
  out = out.replace(/\r\n|[\r\u2028\u2029\u0085]/g, "\n"); // fix_line_breaks
  out = out.replace(TERMINAL_ESCAPE_RE, "");
  out = out.replace(CONTROL_RE, "");
  return out.normalize("NFC"); // ftfy's default normalization
}

/** ftfy.fix_text (default config), less mojibake repair: fixes repeated until stable, as ftfy does. */
export function fixText(text: string): string {
  // ftfy unescape_html="auto": off when the text looks like HTML (contains '<').
  const unescape = !text.includes("<");
  let current = text;
  for (let i = 0; i < 16; i++) {
    const next = ftfyStep(current, unescape);
    if (next === current) break;
    current = next;
  }
  return current;
}

/** open_clip basic_clean. */
export function basicClean(text: string): string {
  return pyStrip(htmlUnescape(htmlUnescape(fixText(text))));
}

/** open_clip's default ("lower") clean function. */
export function cleanLower(text: string): string {
  return whitespaceClean(basicClean(text)).toLowerCase();
}
