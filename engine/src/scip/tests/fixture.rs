//! A small index exercising every message type, for reader tests.

use crate::scip::proto::*;

pub(crate) fn metadata() -> Metadata {
    Metadata {
        version: 0,
        tool_info: Some(ToolInfo {
            name: "scip-test".into(),
            version: "1.0".into(),
            arguments: vec!["--flag".into()],
        }),
        project_root: "file:///src/p".into(),
        text_document_encoding: 1,
    }
}

pub(crate) fn document(i: usize) -> Document {
    let sym = format!("scip-test npm p 1.0 src/f{i}.ts/f{i}().");
    Document {
        relative_path: format!("src/f{i}.ts"),
        language: "typescript".into(),
        position_encoding: 2,
        occurrences: vec![
            Occurrence {
                range: vec![i as i32, 4, 9],
                symbol: sym.clone(),
                symbol_roles: 0x1,
                enclosing_range: vec![i as i32, 0, i as i32 + 2, 1],
                ..Default::default()
            },
            Occurrence {
                range: vec![i as i32 + 1, 2, i as i32 + 1, 7],
                symbol: "local 0".into(),
                symbol_roles: 0x8 | 0x4,
                override_documentation: vec!["doc".into()],
                syntax_kind: 5,
                diagnostics: vec![Diagnostic {
                    severity: 2,
                    code: "W1".into(),
                    message: "unused".into(),
                    source: "tsc".into(),
                    tags: vec![1, 2],
                }],
                enclosing_range: vec![],
            },
        ],
        symbols: vec![SymbolInformation {
            symbol: sym,
            documentation: vec!["Does things.".into()],
            relationships: vec![Relationship {
                symbol: "scip-test npm p 1.0 src/base.ts/Base#run().".into(),
                is_implementation: true,
                is_reference: true,
                ..Default::default()
            }],
            kind: 17,
            display_name: format!("f{i}"),
            signature_documentation: Some(Document {
                language: "typescript".into(),
                text: format!("function f{i}(): void"),
                ..Default::default()
            }),
            enclosing_symbol: String::new(),
        }],
        text: String::new(),
    }
}

pub(crate) fn external() -> SymbolInformation {
    SymbolInformation {
        symbol: "scip-test npm dep 2.0 index.ts/ext().".into(),
        documentation: vec!["External.".into()],
        kind: 26,
        ..Default::default()
    }
}

/// The items of [`encoded`], in order.
pub(crate) fn items() -> Vec<crate::scip::IndexItem> {
    use crate::scip::IndexItem;
    let mut v = vec![IndexItem::Metadata(metadata())];
    v.extend((0..3).map(|i| IndexItem::Document(document(i))));
    v.push(IndexItem::ExternalSymbol(external()));
    v
}

pub(crate) fn encoded() -> Vec<u8> {
    crate::scip::encode_index(
        &metadata(),
        &(0..3).map(document).collect::<Vec<_>>(),
        &[external()],
    )
}

/// Reads every item, stopping at the first error.
pub(crate) fn read_all(
    bytes: &[u8],
) -> Result<Vec<crate::scip::IndexItem>, crate::scip::ScipError> {
    let reader = crate::scip::IndexReader::new(bytes)?;
    reader.collect()
}
