//! The exact bytes of spec §7 and the encoding rules of spec §2.

use galileo_titan::codec::{decode, encode};
use galileo_titan::wire::*;

fn hex(s: &str) -> Vec<u8> {
    s.split_whitespace()
        .map(|b| u8::from_str_radix(b, 16).unwrap())
        .collect()
}

#[test]
fn requests_encode_to_the_spec_bytes() {
    let stop = ClientRequest {
        id: 3,
        data: RequestData::StopStream(StopStreamRequest { id: 0 }),
    };
    assert_eq!(
        encode(&stop),
        hex("82 a2 69 64 03 a4 64 61 74 61 81 aa 53 74 6f 70 53 74 72 65 61 6d 81 a2 69 64 00")
    );
    let info = ClientRequest {
        id: 1,
        data: RequestData::GetInfo(GetInfoRequest {}),
    };
    assert_eq!(
        encode(&info),
        hex("82 a2 69 64 01 a4 64 61 74 61 81 a7 47 65 74 49 6e 66 6f 80")
    );
}

#[test]
fn server_messages_decode_from_the_spec_bytes() {
    let stopped: ServerMessage = decode(&hex(
        "81 a8 52 65 73 70 6f 6e 73 65 83 a9 72 65 71 75 65 73 74 49 64 03 a4 64 61 74 61 81 \
         ad 53 74 72 65 61 6d 53 74 6f 70 70 65 64 81 a2 69 64 00 a6 73 74 72 65 61 6d c0",
    ))
    .unwrap();
    assert_eq!(
        stopped,
        ServerMessage::Response(ResponseMessage {
            request_id: 3,
            data: ResponseData::StreamStopped(StopStreamResponse { id: 0 }),
            stream: None,
        })
    );
    let end: ServerMessage = decode(&hex(
        "81 a9 53 74 72 65 61 6d 45 6e 64 83 a2 69 64 00 a9 65 72 72 6f 72 43 6f 64 65 c0 \
         ac 65 72 72 6f 72 4d 65 73 73 61 67 65 c0",
    ))
    .unwrap();
    assert_eq!(
        end,
        ServerMessage::StreamEnd(StreamEnd {
            id: 0,
            error_code: None,
            error_message: None,
        })
    );
}
