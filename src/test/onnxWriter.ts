/**
 * Writes small ONNX models from TypeScript (a minimal protobuf encoder for the ModelProto fields we use), so the
 * engine tests can run real onnxruntime-web sessions on graphs whose outputs they can compute by hand.
 * Field numbers are those of onnx/onnx.proto3.
 */

type Field = Uint8Array;

function varint(value: number | bigint): number[] {
  let v = BigInt.asUintN(64, BigInt(value));
  const bytes: number[] = [];
  while (v >= 0x80n) {
    bytes.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  bytes.push(Number(v));
  return bytes;
}

const intField = (field: number, value: number | bigint): Field =>
  new Uint8Array([...varint(field << 3), ...varint(value)]);

function bytesField(field: number, body: Uint8Array): Field {
  const head = [...varint((field << 3) | 2), ...varint(body.length)];
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  return out;
}

const stringField = (field: number, value: string): Field =>
  bytesField(field, new TextEncoder().encode(value));

function message(...fields: (Field | Field[])[]): Uint8Array {
  const flat = fields.flat();
  const out = new Uint8Array(flat.reduce((n, f) => n + f.length, 0));
  let offset = 0;
  for (const f of flat) {
    out.set(f, offset);
    offset += f.length;
  }
  return out;
}

export const ELEM_FLOAT = 1;
export const ELEM_INT64 = 7;

export type Dim = number | string;

export interface Initializer {
  name: string;
  dims: number[];
  data: Float32Array | BigInt64Array;
}

export type AttributeValue = number | number[] | { float: number } | { tensor: Initializer };

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  attributes?: Record<string, AttributeValue>;
}

export interface GraphSpec {
  inputs: { name: string; elemType: number; dims: Dim[] }[];
  outputs: { name: string; elemType: number; dims: Dim[] }[];
  initializers: Initializer[];
  nodes: NodeSpec[];
  opset?: number;
}

function tensorProto(t: Initializer): Uint8Array {
  const elemType = t.data instanceof Float32Array ? ELEM_FLOAT : ELEM_INT64;
  const raw = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  return message(
    t.dims.map((d) => intField(1, d)),
    intField(2, elemType),
    stringField(8, t.name),
    bytesField(9, raw),
  );
}

function valueInfo(v: { name: string; elemType: number; dims: Dim[] }): Uint8Array {
  const dims = v.dims.map((d) => bytesField(1, typeof d === 'number' ? intField(1, d) : stringField(2, d)));
  const tensorType = message(intField(1, v.elemType), bytesField(2, message(dims)));
  return message(stringField(1, v.name), bytesField(2, bytesField(1, tensorType)));
}

function attribute(name: string, value: AttributeValue): Uint8Array {
  if (typeof value === 'number') return message(stringField(1, name), intField(3, value), intField(20, 2));
  if (Array.isArray(value))
    return message(
      stringField(1, name),
      value.map((v) => intField(8, v)),
      intField(20, 7),
    );
  if ('float' in value) {
    const f = new Uint8Array(new Float32Array([value.float]).buffer);
    return message(stringField(1, name), new Uint8Array([(2 << 3) | 5, ...f]), intField(20, 1));
  }
  return message(stringField(1, name), bytesField(5, tensorProto(value.tensor)), intField(20, 4));
}

/** Serialised ONNX ModelProto (IR version 8) for the graph. */
export function buildOnnxModel(spec: GraphSpec): Uint8Array {
  const nodes = spec.nodes.map((n, i) =>
    bytesField(
      1,
      message(
        n.inputs.map((x) => stringField(1, x)),
        n.outputs.map((x) => stringField(2, x)),
        stringField(3, `${n.op}_${i}`),
        stringField(4, n.op),
        Object.entries(n.attributes ?? {}).map(([k, v]) => bytesField(5, attribute(k, v))),
      ),
    ),
  );
  const graph = message(
    nodes,
    stringField(2, 'test_graph'),
    spec.initializers.map((t) => bytesField(5, tensorProto(t))),
    spec.inputs.map((v) => bytesField(11, valueInfo(v))),
    spec.outputs.map((v) => bytesField(12, valueInfo(v))),
  );
  const opset = message(stringField(1, ''), intField(2, spec.opset ?? 17));
  return message(
    intField(1, 8),
    stringField(2, 'eva-lens-tests'),
    bytesField(7, graph),
    bytesField(8, opset),
  );
}
