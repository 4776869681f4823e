//! A borrowing decoder of one `Document`: occurrences are read straight from the protobuf
//! bytes, their symbols borrowed from the buffer, instead of materialising prost's
//! `Occurrence`s.
//!
//! Why: prost's `Document` holds, per occurrence, a `String` symbol, a `Vec<i32>` range and
//! three empty `Vec`s, ~3.9x the encoded size of the document (11.4 MB for rxjs's largest
//! document of 2.95 MB). That was the largest item of ingest's peak heap
//! (`benches/RESULTS.md` §SCIP, Memory). An [`OccurrenceView`] is 40 bytes with no heap
//! allocation; the rare fields (syntax kind, enclosing range, override documentation,
//! diagnostics) go to a side table. `SymbolInformation`s stay prost messages: they are few
//! and their documentation is stored as protobuf anyway.
//!
//! Accepts and rejects exactly what `Document::decode` followed by
//! [`super::validate_document`] does (the differential tests in `tests/docview.rs` and the
//! `scip_docview` fuzz target hold it to that): the same wire rules (unknown fields and groups
//! skipped, packed and unpacked repeated ints, last value wins for scalars, UTF-8 checked,
//! the same recursion limit), and the same validation, reported in the same order: the
//! path, then the first bad occurrence, then the first symbol without a name.

use prost::Message;
use prost::encoding::{DecodeContext, WireType};

use super::error::ScipError;
use super::proto::{Diagnostic, SymbolInformation};
use super::range::Range;
use super::validate::check_path;

/// prost's default recursion budget (`prost::RECURSION_LIMIT`), spent the same way: one level
/// per nested message or group.
const RECURSION_LIMIT: u32 = 100;

const NO_EXTRA: u32 = u32::MAX;

/// One occurrence, borrowed from the document's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OccurrenceView<'a> {
    pub range: Range,
    pub symbol: &'a str,
    pub roles: i32,
    /// Index into [`DocumentView::extras`], or `NO_EXTRA`.
    extra: u32,
}

/// The fields of an occurrence that are usually absent.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OccurrenceExtra<'a> {
    pub syntax_kind: i32,
    pub enclosing: Option<Range>,
    pub override_documentation: Vec<&'a str>,
    pub diagnostics: Vec<Diagnostic>,
}

/// A validated document whose occurrences borrow from its protobuf bytes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DocumentView<'a> {
    pub relative_path: &'a str,
    pub language: &'a str,
    pub position_encoding: i32,
    pub occurrences: Vec<OccurrenceView<'a>>,
    pub extras: Vec<OccurrenceExtra<'a>>,
    pub symbols: Vec<SymbolInformation>,
}

impl<'a> DocumentView<'a> {
    /// A document of symbols only: how batches of external symbols are written.
    pub fn from_symbols(symbols: Vec<SymbolInformation>) -> Self {
        DocumentView {
            symbols,
            ..Default::default()
        }
    }

    /// The rare fields of `o`, if any is set.
    pub fn extra(&self, o: &OccurrenceView<'a>) -> Option<&OccurrenceExtra<'a>> {
        if o.extra == NO_EXTRA {
            return None;
        }
        self.extras.get(o.extra as usize)
    }

    /// Decodes and validates a `Document`'s protobuf bytes. `offset` (the payload's position
    /// in the index) goes into `Malformed` errors.
    pub fn decode(payload: &'a [u8], offset: u64) -> Result<Self, ScipError> {
        let malformed = |e: WireError| {
            ScipError::malformed(
                offset,
                format!(
                    "cannot decode Index.documents: failed to decode Protobuf message: {}{}",
                    e.path, e.what
                ),
            )
        };
        let mut doc = DocumentView {
            occurrences: Vec::with_capacity(count_occurrences(payload)),
            ..Default::default()
        };
        let mut invalid = Invalid::default();
        decode_document(payload, &mut doc, &mut invalid).map_err(malformed)?;
        check_path(doc.relative_path)
            .map_err(|what| ScipError::invalid(doc.relative_path, "relative_path", what))?;
        if let Some((field, what)) = invalid.occurrence.or(invalid.symbol) {
            return Err(ScipError::invalid(doc.relative_path, field, what));
        }
        Ok(doc)
    }
}

/// A wire error: prost's message path (`Document.occurrences: Occurrence.range: `) and text.
struct WireError {
    path: String,
    what: String,
}

impl WireError {
    fn new(what: impl Into<String>) -> Self {
        WireError {
            path: String::new(),
            what: what.into(),
        }
    }

    fn at(mut self, message: &str, field: &str) -> Self {
        self.path = format!("{message}.{field}: {}", self.path);
        self
    }
}

type Wire<T> = Result<T, WireError>;

/// The first semantic error of each kind, kept while decoding continues: a wire error later
/// in the bytes takes precedence, as it does when prost decodes before validation.
#[derive(Default)]
struct Invalid {
    occurrence: Option<(String, String)>,
    symbol: Option<(String, String)>,
}

/// Smallest encoding of a valid occurrence: a packed 3-int range (5 bytes) and a 1-byte
/// symbol (3 bytes).
const MIN_OCCURRENCE_BYTES: u64 = 8;

/// Counts the occurrences that could be valid (to size the occurrence table exactly), so a
/// payload of empty occurrence fields cannot reserve 20x its size; stops quietly at anything
/// malformed, which the real decode then reports.
fn count_occurrences(mut buf: &[u8]) -> usize {
    let mut n = 0;
    while !buf.is_empty() {
        let Ok((tag, wt)) = key(&mut buf) else {
            return n;
        };
        if tag == 2 && wt == WireType::LengthDelimited {
            match varint(&mut buf) {
                Ok(len) if len <= buf.len() as u64 => {
                    n += usize::from(len >= MIN_OCCURRENCE_BYTES);
                    buf = &buf[len as usize..];
                    continue;
                }
                _ => return n,
            }
        }
        if skip(&mut buf, tag, wt, RECURSION_LIMIT).is_err() {
            return n;
        }
    }
    n
}

fn varint(buf: &mut &[u8]) -> Wire<u64> {
    let mut value = 0u64;
    for i in 0..10 {
        let Some((&b, rest)) = buf.split_first() else {
            return Err(WireError::new("invalid varint"));
        };
        *buf = rest;
        if i == 9 && b > 1 {
            return Err(WireError::new("invalid varint"));
        }
        value |= u64::from(b & 0x7F) << (7 * i);
        if b & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(WireError::new("invalid varint"))
}

fn key(buf: &mut &[u8]) -> Wire<(u32, WireType)> {
    let k = varint(buf)?;
    if k > u64::from(u32::MAX) {
        return Err(WireError::new(format!("invalid key value: {k}")));
    }
    let wt = WireType::try_from(k & 7).map_err(|e| WireError::new(e.to_string()))?;
    let tag = (k as u32) >> 3;
    if tag == 0 {
        return Err(WireError::new("invalid tag value: 0"));
    }
    Ok((tag, wt))
}

fn expect(actual: WireType, expected: WireType) -> Wire<()> {
    if actual != expected {
        return Err(WireError::new(format!(
            "invalid wire type: {actual:?} (expected {expected:?})"
        )));
    }
    Ok(())
}

/// A length-delimited payload.
fn bytes<'a>(buf: &mut &'a [u8]) -> Wire<&'a [u8]> {
    let len = varint(buf)?;
    if len > buf.len() as u64 {
        return Err(WireError::new("buffer underflow"));
    }
    let (head, rest) = buf.split_at(len as usize);
    *buf = rest;
    Ok(head)
}

fn string<'a>(buf: &mut &'a [u8], wt: WireType) -> Wire<&'a str> {
    expect(wt, WireType::LengthDelimited)?;
    std::str::from_utf8(bytes(buf)?)
        .map_err(|_| WireError::new("invalid string value: data is not UTF-8 encoded"))
}

fn int32(buf: &mut &[u8], wt: WireType) -> Wire<i32> {
    expect(wt, WireType::Varint)?;
    Ok(varint(buf)? as i32)
}

/// A message field's payload, checking the recursion budget as prost does on entry.
fn message<'a>(buf: &mut &'a [u8], wt: WireType, depth: u32) -> Wire<&'a [u8]> {
    expect(wt, WireType::LengthDelimited)?;
    if depth == 0 {
        return Err(WireError::new("recursion limit reached"));
    }
    bytes(buf)
}

/// Appends a repeated int32, packed or not, calling `push` per value.
fn int32s(buf: &mut &[u8], wt: WireType, mut push: impl FnMut(i32)) -> Wire<()> {
    if wt == WireType::LengthDelimited {
        let mut packed = bytes(buf)?;
        while !packed.is_empty() {
            push(varint(&mut packed)? as i32);
        }
        return Ok(());
    }
    push(int32(buf, wt)?);
    Ok(())
}

/// Skips a field this decoder does not keep, as `prost::encoding::skip_field` does.
fn skip(buf: &mut &[u8], tag: u32, wt: WireType, depth: u32) -> Wire<()> {
    if depth == 0 {
        return Err(WireError::new("recursion limit reached"));
    }
    let len = match wt {
        WireType::Varint => varint(buf).map(|_| 0)?,
        WireType::ThirtyTwoBit => 4,
        WireType::SixtyFourBit => 8,
        WireType::LengthDelimited => varint(buf)?,
        WireType::StartGroup => loop {
            let (inner, inner_wt) = key(buf)?;
            if inner_wt == WireType::EndGroup {
                if inner != tag {
                    return Err(WireError::new("unexpected end group tag"));
                }
                break 0;
            }
            skip(buf, inner, inner_wt, depth - 1)?;
        },
        WireType::EndGroup => return Err(WireError::new("unexpected end group tag")),
    };
    if len > buf.len() as u64 {
        return Err(WireError::new("buffer underflow"));
    }
    *buf = &buf[len as usize..];
    Ok(())
}

fn decode_document<'a>(
    mut buf: &'a [u8],
    doc: &mut DocumentView<'a>,
    invalid: &mut Invalid,
) -> Wire<()> {
    let depth = RECURSION_LIMIT;
    while !buf.is_empty() {
        let (tag, wt) = key(&mut buf)?;
        match tag {
            1 => {
                doc.relative_path =
                    string(&mut buf, wt).map_err(|e| e.at("Document", "relative_path"))?
            }
            2 => {
                let i = doc.occurrences.len();
                message(&mut buf, wt, depth)
                    .and_then(|m| decode_occurrence(m, depth - 1, i, doc, invalid))
                    .map_err(|e| e.at("Document", "occurrences"))?;
            }
            3 => {
                expect(wt, WireType::LengthDelimited)
                    .and_then(|()| symbol_information(&mut buf))
                    .map_err(|e| e.at("Document", "symbols"))
                    .map(|s| {
                        if s.symbol.is_empty() && invalid.symbol.is_none() {
                            invalid.symbol = Some((
                                format!("symbols[{}].symbol", doc.symbols.len()),
                                "is empty".into(),
                            ));
                        }
                        doc.symbols.push(s);
                    })?;
            }
            4 => doc.language = string(&mut buf, wt).map_err(|e| e.at("Document", "language"))?,
            5 => {
                string(&mut buf, wt).map_err(|e| e.at("Document", "text"))?;
            }
            6 => {
                doc.position_encoding =
                    int32(&mut buf, wt).map_err(|e| e.at("Document", "position_encoding"))?
            }
            _ => skip(&mut buf, tag, wt, depth)?,
        }
    }
    Ok(())
}

/// prost decodes `SymbolInformation` itself, through the same entry point and budget its
/// derived `Document` decoder uses for this field. `buf` starts at the length prefix.
fn symbol_information(buf: &mut &[u8]) -> Wire<SymbolInformation> {
    let mut s = SymbolInformation::default();
    prost::encoding::message::merge(
        WireType::LengthDelimited,
        &mut s,
        buf,
        DecodeContext::default(),
    )
    .map_err(|e| {
        // prost's text already names the fields below this one.
        let text = e.to_string();
        WireError::new(
            text.strip_prefix("failed to decode Protobuf message: ")
                .unwrap_or(&text)
                .to_owned(),
        )
    })?;
    Ok(s)
}

/// Up to four ints of a range and how many there were (more than four is always invalid).
#[derive(Default)]
struct Ints {
    v: [i32; 4],
    n: usize,
}

impl Ints {
    fn push(&mut self, x: i32) {
        if let Some(slot) = self.v.get_mut(self.n) {
            *slot = x;
        }
        self.n += 1;
    }

    fn range(&self) -> Result<Range, String> {
        if self.n > 4 {
            return Err(format!("has {} ints, expected 3 or 4", self.n));
        }
        Range::from_scip(&self.v[..self.n])
    }
}

fn decode_occurrence<'a>(
    mut buf: &'a [u8],
    depth: u32,
    index: usize,
    doc: &mut DocumentView<'a>,
    invalid: &mut Invalid,
) -> Wire<()> {
    let (mut range, mut enclosing) = (Ints::default(), Ints::default());
    let (mut symbol, mut roles) = ("", 0);
    let mut extra = OccurrenceExtra::default();
    while !buf.is_empty() {
        let (tag, wt) = key(&mut buf)?;
        let at = |field: &'static str| move |e: WireError| e.at("Occurrence", field);
        match tag {
            1 => int32s(&mut buf, wt, |x| range.push(x)).map_err(at("range"))?,
            2 => symbol = string(&mut buf, wt).map_err(at("symbol"))?,
            3 => roles = int32(&mut buf, wt).map_err(at("symbol_roles"))?,
            4 => extra
                .override_documentation
                .push(string(&mut buf, wt).map_err(at("override_documentation"))?),
            5 => extra.syntax_kind = int32(&mut buf, wt).map_err(at("syntax_kind"))?,
            6 => {
                let m = message(&mut buf, wt, depth).map_err(at("diagnostics"))?;
                let d = decode_diagnostic(m, depth - 1).map_err(at("diagnostics"))?;
                extra.diagnostics.push(d);
            }
            7 => int32s(&mut buf, wt, |x| enclosing.push(x)).map_err(at("enclosing_range"))?,
            _ => skip(&mut buf, tag, wt, depth)?,
        }
    }
    if invalid.occurrence.is_some() {
        return Ok(());
    }
    let field = |name: &str| format!("occurrences[{index}].{name}");
    let checked = range
        .range()
        .map_err(|w| (field("range"), w))
        .and_then(|r| {
            let e = match enclosing.n {
                0 => None,
                _ => Some(
                    enclosing
                        .range()
                        .map_err(|w| (field("enclosing_range"), w))?,
                ),
            };
            if symbol.is_empty() {
                return Err((field("symbol"), "is empty".to_string()));
            }
            Ok((r, e))
        });
    let (range, enclosing) = match checked {
        Ok(v) => v,
        Err(e) => {
            invalid.occurrence = Some(e);
            return Ok(());
        }
    };
    extra.enclosing = enclosing;
    let has_extra = extra != OccurrenceExtra::default();
    let extra_index = if has_extra {
        doc.extras.push(extra);
        (doc.extras.len() - 1) as u32
    } else {
        NO_EXTRA
    };
    doc.occurrences.push(OccurrenceView {
        range,
        symbol,
        roles,
        extra: extra_index,
    });
    Ok(())
}

fn decode_diagnostic(mut buf: &[u8], depth: u32) -> Wire<Diagnostic> {
    let mut d = Diagnostic::default();
    while !buf.is_empty() {
        let (tag, wt) = key(&mut buf)?;
        let at = |field: &'static str| move |e: WireError| e.at("Diagnostic", field);
        match tag {
            1 => d.severity = int32(&mut buf, wt).map_err(at("severity"))?,
            2 => d.code = string(&mut buf, wt).map_err(at("code"))?.to_owned(),
            3 => d.message = string(&mut buf, wt).map_err(at("message"))?.to_owned(),
            4 => d.source = string(&mut buf, wt).map_err(at("source"))?.to_owned(),
            5 => int32s(&mut buf, wt, |x| d.tags.push(x)).map_err(at("tags"))?,
            _ => skip(&mut buf, tag, wt, depth)?,
        }
    }
    Ok(d)
}

/// Decodes `payload` with this decoder and with prost plus [`super::validate_document`], and
/// says how the two differ, if they do: both accept with the same content, or both reject
/// with the same kind of error (and for `Invalid`, the same document, field and text).
/// For the differential tests and the `scip_docview` fuzz target.
#[doc(hidden)]
pub fn differential(payload: &[u8]) -> Result<(), String> {
    let ours = DocumentView::decode(payload, 0);
    let theirs = super::proto::Document::decode(payload)
        .map_err(|e| ScipError::malformed(0, e.to_string()))
        .and_then(|d| super::validate_document(&d).map(|()| d));
    match (ours, theirs) {
        (Ok(v), Ok(d)) if same(&d, &v) => Ok(()),
        (Err(ScipError::Malformed { .. }), Err(ScipError::Malformed { .. })) => Ok(()),
        (
            Err(ScipError::Invalid {
                document: d1,
                field: f1,
                what: w1,
            }),
            Err(ScipError::Invalid {
                document: d2,
                field: f2,
                what: w2,
            }),
        ) if (&d1, &f1, &w1) == (&d2, &f2, &w2) => Ok(()),
        (ours, theirs) => Err(format!("view decoder: {ours:?}\nprost: {theirs:?}")),
    }
}

/// Whether a prost document and a view hold the same content (what the store writes).
fn same(d: &super::proto::Document, v: &DocumentView<'_>) -> bool {
    if d.relative_path != v.relative_path
        || d.language != v.language
        || d.position_encoding != v.position_encoding
        || d.symbols != v.symbols
        || d.occurrences.len() != v.occurrences.len()
    {
        return false;
    }
    let none = OccurrenceExtra::default();
    d.occurrences.iter().zip(&v.occurrences).all(|(p, o)| {
        let x = v.extra(o).unwrap_or(&none);
        let enclosing = match p.enclosing_range.is_empty() {
            true => None,
            false => Range::from_scip(&p.enclosing_range).ok(),
        };
        Range::from_scip(&p.range).ok() == Some(o.range)
            && p.symbol == o.symbol
            && p.symbol_roles == o.roles
            && p.syntax_kind == x.syntax_kind
            && enclosing == x.enclosing
            && p.override_documentation == x.override_documentation
            && p.diagnostics == x.diagnostics
    })
}
