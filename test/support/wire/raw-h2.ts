import { connect, type Socket } from "node:net";

// HTTP/2 written by hand, for peers that node:http2 will not play: one that never answers a
// PING, one that resets streams as fast as it opens them.

const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");
const HEADERS = 0x1;
const RST_STREAM = 0x3;
const SETTINGS = 0x4;
const END_HEADERS = 0x4;
const CANCEL = 0x8;

function frame(type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(9);
  header.writeUIntBE(payload.length, 0, 3);
  header[3] = type;
  header[4] = flags;
  header.writeUInt32BE(streamId & 0x7fffffff, 5);
  return Buffer.concat([header, payload]);
}

/** HPACK "literal header field without indexing, new name", no Huffman coding. */
function literal(name: string, value: string): Buffer {
  const n = Buffer.from(name, "latin1");
  const v = Buffer.from(value, "latin1");
  if (n.length > 126 || v.length > 126) {
    throw new RangeError("a header this small helper cannot encode");
  }
  return Buffer.concat([Buffer.from([0x00, n.length]), n, Buffer.from([v.length]), v]);
}

/** An HTTP/2 connection driven by hand; it reads what the server sends and answers nothing. */
export interface RawH2 {
  readonly socket: Socket;
  /** Resolves once the server has closed the connection. */
  readonly closed: Promise<void>;
  /** Opens stream `id` with a POST to `path`, its body left to come (no END_STREAM). */
  open(id: number, path: string, contentType: string): void;
  /** Resets stream `id` (CANCEL). */
  reset(id: number): void;
  destroy(): void;
}

/** Connects with prior knowledge and sends the preface and an empty SETTINGS frame. */
export async function rawH2(url: string): Promise<RawH2> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  socket.on("error", () => undefined);
  // Read and drop: the server must not be blocked on a full window of ours.
  socket.resume();
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  socket.write(Buffer.concat([PREFACE, frame(SETTINGS, 0, 0)]));
  return {
    socket,
    closed,
    open(id, path, contentType) {
      const block = Buffer.concat([
        literal(":method", "POST"),
        literal(":scheme", "http"),
        literal(":path", path),
        literal(":authority", `${hostname}:${port}`),
        literal("content-type", contentType),
      ]);
      socket.write(frame(HEADERS, END_HEADERS, id, block));
    },
    reset(id) {
      const code = Buffer.alloc(4);
      code.writeUInt32BE(CANCEL);
      socket.write(frame(RST_STREAM, 0, id, code));
    },
    destroy() {
      socket.destroy();
    },
  };
}
