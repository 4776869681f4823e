//! Request parsing: framing, skipping, every protocol error, and the limits.

use crate::resp::{Command, Limits, ProtocolError, RequestParser, drive};

fn command(args: &[&[u8]]) -> Command {
    Command {
        args: args.iter().map(|a| a.to_vec()).collect(),
    }
}

fn parse_once(buf: &[u8]) -> Result<Option<(Command, usize)>, ProtocolError> {
    RequestParser::default().parse(buf)
}

fn first_error(buf: &[u8]) -> ProtocolError {
    match parse_once(buf) {
        Err(error) => error,
        other => panic!("{:?} parsed as {other:?}", String::from_utf8_lossy(buf)),
    }
}

#[test]
fn parses_a_multibulk_command() {
    let buf = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nv\r\n\0x\r\n";
    assert_eq!(
        parse_once(buf),
        Ok(Some((command(&[b"SET", b"k", b"v\r\n\0x"]), buf.len())))
    );
}

#[test]
fn every_proper_prefix_needs_more() {
    let buf = b"*2\r\n$4\r\nECHO\r\n$0\r\n\r\n";
    for end in 0..buf.len() {
        assert_eq!(parse_once(&buf[..end]), Ok(None), "prefix of {end} bytes");
    }
}

#[test]
fn resumes_where_it_left_off() {
    let buf = b"*2\r\n$4\r\nECHO\r\n$11\r\nhello world\r\n";
    let mut parser = RequestParser::default();
    for end in 0..buf.len() {
        assert_eq!(parser.parse(&buf[..end]), Ok(None));
    }
    assert_eq!(
        parser.parse(buf),
        Ok(Some((command(&[b"ECHO", b"hello world"]), buf.len())))
    );
}

#[test]
fn pipelined_commands_come_out_one_at_a_time() {
    let buf = b"*1\r\n$4\r\nPING\r\nGET a\r\n*2\r\n$3\r\nGET\r\n$1\r\nb\r\nQUIT\n";
    let mut parser = RequestParser::default();
    let mut rest: &[u8] = buf;
    let mut seen = Vec::new();
    while let Some((cmd, used)) = parser.parse(rest).unwrap() {
        seen.push(cmd);
        rest = &rest[used..];
    }
    assert!(rest.is_empty());
    assert_eq!(
        seen,
        [
            command(&[b"PING"]),
            command(&[b"GET", b"a"]),
            command(&[b"GET", b"b"]),
            command(&[b"QUIT"]),
        ]
    );
}

#[test]
fn empty_requests_are_consumed_without_a_command() {
    let buf = b"*0\r\n*-1\r\n*-5\r\n\r\n   \n*1\r\n$4\r\nPING\r\n";
    assert_eq!(parse_once(buf), Ok(Some((command(&[b"PING"]), buf.len()))));
}

#[test]
fn skipped_bytes_can_be_released_early() {
    let mut parser = RequestParser::default();
    let mut buf = b"*0\r\n\r\n*1\r\n$4\r\nPI".to_vec();
    assert_eq!(parser.parse(&buf), Ok(None));
    assert_eq!(parser.take_skipped(), 6);
    buf.drain(..6);
    buf.extend_from_slice(b"NG\r\n");
    assert_eq!(
        parser.parse(&buf),
        Ok(Some((command(&[b"PING"]), buf.len())))
    );
    assert_eq!(parser.take_skipped(), 0);
}

#[test]
fn a_shrunken_buffer_restarts_parsing() {
    let mut parser = RequestParser::default();
    assert_eq!(parser.parse(b"*2\r\n$3\r\nGET\r\n"), Ok(None));
    parser.reset();
    assert_eq!(
        parser.parse(b"PING\r\n"),
        Ok(Some((command(&[b"PING"]), 6)))
    );
    assert_eq!(parser.parse(b"*2\r\n$3\r\nGET\r\n"), Ok(None));
    assert_eq!(parser.parse(b"PI"), Ok(None));
    assert_eq!(parser.parse(b"PING\n"), Ok(Some((command(&[b"PING"]), 5))));
}

#[test]
fn invalid_multibulk_lengths() {
    for buf in [
        &b"*abc\r\n"[..],
        b"*01\r\n",
        b"*-0\r\n",
        b"*+1\r\n",
        b"* 1\r\n",
        b"*1 \r\n",
        b"*\r\n",
        b"*1\rx",
        b"*99999999999999999999\r\n",
        b"*123456789012345678901",
    ] {
        assert_eq!(
            first_error(buf),
            ProtocolError::InvalidMultibulkLength,
            "{:?}",
            String::from_utf8_lossy(buf)
        );
    }
}

#[test]
fn invalid_bulk_lengths() {
    for buf in [
        &b"*1\r\n$abc\r\n"[..],
        b"*1\r\n$-1\r\n",
        b"*1\r\n$01\r\n",
        b"*1\r\n$\r\n",
        b"*1\r\n$3\rx",
        b"*1\r\n$123456789012345678901",
    ] {
        assert_eq!(
            first_error(buf),
            ProtocolError::InvalidBulkLength,
            "{:?}",
            String::from_utf8_lossy(buf)
        );
    }
}

#[test]
fn element_must_be_a_bulk_string() {
    let error = first_error(b"*2\r\n$3\r\nGET\r\nx\r\n");
    assert_eq!(error, ProtocolError::ExpectedBulk { got: b'x' });
    assert_eq!(error.to_string(), "Protocol error: expected '$', got 'x'");
    assert_eq!(
        first_error(b"*1\r\n:1\r\n"),
        ProtocolError::ExpectedBulk { got: b':' }
    );
}

#[test]
fn bulk_data_must_end_in_crlf() {
    assert_eq!(
        first_error(b"*1\r\n$3\r\nGETX\r\n"),
        ProtocolError::MissingBulkTerminator
    );
    assert_eq!(
        first_error(b"*1\r\n$3\r\nGET\n\r"),
        ProtocolError::MissingBulkTerminator
    );
}

#[test]
fn bulk_over_the_limit_is_refused_at_the_header() {
    let limit = Limits::default().max_bulk_len;
    assert_eq!(limit, 512 * 1024 * 1024);
    let at_limit = format!("*1\r\n${limit}\r\n");
    assert_eq!(parse_once(at_limit.as_bytes()), Ok(None));
    let over = format!("*1\r\n${}\r\n", limit + 1);
    assert_eq!(
        first_error(over.as_bytes()),
        ProtocolError::InvalidBulkLength
    );
    // The billion-byte claim fails with nothing but the header present.
    assert_eq!(
        first_error(b"*1\r\n$1000000000\r\n"),
        ProtocolError::InvalidBulkLength
    );
}

#[test]
fn array_over_the_limit_is_refused() {
    let limit = Limits::default().max_array_len;
    assert_eq!(limit, 1_048_576);
    assert_eq!(parse_once(format!("*{limit}\r\n").as_bytes()), Ok(None));
    assert_eq!(
        first_error(format!("*{}\r\n", limit + 1).as_bytes()),
        ProtocolError::InvalidMultibulkLength
    );
    assert_eq!(
        first_error(b"*2147483648\r\n"),
        ProtocolError::InvalidMultibulkLength
    );
}

#[test]
fn custom_limits_apply() {
    let mut parser = RequestParser::new(Limits {
        max_bulk_len: 3,
        max_array_len: 2,
        max_inline_len: 4,
    });
    assert_eq!(
        parser.parse(b"*1\r\n$3\r\nabc\r\n"),
        Ok(Some((command(&[b"abc"]), 13)))
    );
    assert_eq!(
        parser.parse(b"*1\r\n$4\r\n"),
        Err(ProtocolError::InvalidBulkLength)
    );
    assert_eq!(
        parser.parse(b"*3\r\n"),
        Err(ProtocolError::InvalidMultibulkLength)
    );
    assert_eq!(parser.parse(b"abcd\n"), Ok(Some((command(&[b"abcd"]), 5))));
    assert_eq!(parser.parse(b"abcde\n"), Err(ProtocolError::InlineTooBig));
    assert_eq!(parser.parse(b"abcde"), Err(ProtocolError::InlineTooBig));
}

#[test]
fn inline_over_the_limit_is_refused() {
    let limit = Limits::default().max_inline_len;
    assert_eq!(limit, 64 * 1024);
    let mut line = vec![b'a'; limit];
    assert_eq!(parse_once(&line), Ok(None));
    line.push(b'\n');
    assert_eq!(parse_once(&line).unwrap().unwrap().1, limit + 1);
    line.pop();
    line.push(b'a');
    assert_eq!(first_error(&line), ProtocolError::InlineTooBig);
    line.push(b'\n');
    assert_eq!(first_error(&line), ProtocolError::InlineTooBig);
    assert_eq!(
        ProtocolError::InlineTooBig.to_string(),
        "Protocol error: too big inline request"
    );
}

#[test]
fn inline_commands_follow_redis_quoting() {
    let buf = b"SET \"a b\" 'c\\'d' \"\\x41\\n\"\r\n";
    assert_eq!(
        parse_once(buf),
        Ok(Some((
            command(&[b"SET", b"a b", b"c'd", b"A\n"]),
            buf.len()
        )))
    );
    assert_eq!(
        parse_once(b"GET \"oops\r\n"),
        Err(ProtocolError::UnbalancedQuotes)
    );
    assert_eq!(
        ProtocolError::UnbalancedQuotes.to_string(),
        "Protocol error: unbalanced quotes in request"
    );
    // A lone CR ends a word but not the line.
    assert_eq!(parse_once(b"A\rB\n"), Ok(Some((command(&[b"A", b"B"]), 4))));
}

#[test]
fn a_large_bulk_in_small_pieces_is_parsed_in_linear_time() {
    // 32 MiB in 64 KiB pieces: rescanning from the start on every call would
    // touch ~16 GiB and time out; resuming touches each byte once.
    let len = 32 * 1024 * 1024;
    let mut stream = format!("*2\r\n$3\r\nSET\r\n${len}\r\n").into_bytes();
    stream.resize(stream.len() + len, b'\n');
    stream.extend_from_slice(b"\r\n");
    let mut parser = RequestParser::default();
    let mut end = 0;
    let result = loop {
        end = (end + 64 * 1024).min(stream.len());
        if let Some(done) = parser.parse(&stream[..end]).unwrap() {
            break done;
        }
        assert!(end < stream.len());
    };
    assert_eq!(result.1, stream.len());
    assert_eq!(result.0.args[1].len(), len);
}

#[test]
fn a_flood_of_empty_requests_stays_bounded() {
    let mut parser = RequestParser::default();
    let mut buf = Vec::new();
    for _ in 0..10_000 {
        buf.extend_from_slice(b"*0\r\n\n*-1\r\n*");
        assert_eq!(parser.parse(&buf), Ok(None));
        let skipped = parser.take_skipped();
        buf.drain(..skipped);
        assert_eq!(buf, b"*");
        buf.clear();
        parser.reset();
    }
    assert!(drive(&[b"*0\r\n\n", b"*-1\r\n", b"\r\n"]).is_empty());
}
