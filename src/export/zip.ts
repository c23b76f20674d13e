/**
 * A ZIP archive of stored (uncompressed) files, built as a Blob: photos are already compressed, so deflating them
 * again would cost time and save nothing. File contents are referenced, not copied, so a zip of a few GB of photos
 * does not hold them twice in memory; only their CRC-32 needs one read of each.
 *
 * Layout (APPNOTE 6.3.x): per file a local header, the name and the bytes; then the central directory and its end
 * record. Names are UTF-8 (general purpose flag bit 11). ZIP64 is not written: archives stop at 4 GiB and 65,535
 * files, and `zipBlob` says so rather than writing a broken file.
 */

export interface ZipEntry {
  /** Path inside the archive, '/'-separated. */
  path: string;
  data: Blob;
  /** Modification time written into the archive (DOS time, 2-second steps). */
  modified?: Date;
}

const MAX_ZIP32 = 0xffffffff;

let crcTable: Uint32Array | null = null;

function table(): Uint32Array {
  if (crcTable) return crcTable;
  crcTable = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    crcTable[n] = c >>> 0;
  }
  return crcTable;
}

/** CRC-32 (IEEE 802.3), continued from `crc` when given, as ZIP stores it. */
export function crc32(bytes: Uint8Array, crc = 0): number {
  const t = table();
  let c = ~crc >>> 0;
  for (let i = 0; i < bytes.length; i++) c = t[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

async function blobCrc32(blob: Blob): Promise<number> {
  let crc = 0;
  const step = 8 << 20;
  for (let start = 0; start < blob.size; start += step) {
    crc = crc32(new Uint8Array(await blob.slice(start, start + step).arrayBuffer()), crc);
  }
  return crc;
}

function dosDateTime(date: Date): { time: number; date: number } {
  const year = Math.max(1980, date.getFullYear());
  return {
    time: (date.getHours() << 11) | (date.getMinutes() << 5) | Math.floor(date.getSeconds() / 2),
    date: ((year - 1980) << 9) | ((date.getMonth() + 1) << 5) | date.getDate(),
  };
}

export async function zipBlob(entries: readonly ZipEntry[]): Promise<Blob> {
  if (entries.length > 0xffff)
    throw new Error(`A zip holds at most 65,535 files; this one would hold ${entries.length}.`);
  const encoder = new TextEncoder();
  const parts: BlobPart[] = [];
  const central: Uint8Array<ArrayBuffer>[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = encoder.encode(entry.path) as Uint8Array<ArrayBuffer>;
    const crc = await blobCrc32(entry.data);
    const size = entry.data.size;
    const { time, date } = dosDateTime(entry.modified ?? new Date());
    if (offset + 30 + name.length + size > MAX_ZIP32) {
      throw new Error('The zip would be larger than 4 GB; sort fewer images at a time.');
    }
    const local = new DataView(new ArrayBuffer(30));
    local.setUint32(0, 0x04034b50, true); // local file header signature
    local.setUint16(4, 20, true); // version needed: 2.0
    local.setUint16(6, 0x0800, true); // flags: UTF-8 names
    local.setUint16(8, 0, true); // method: stored
    local.setUint16(10, time, true);
    local.setUint16(12, date, true);
    local.setUint32(14, crc, true);
    local.setUint32(18, size, true); // compressed size
    local.setUint32(22, size, true); // uncompressed size
    local.setUint16(26, name.length, true);
    local.setUint16(28, 0, true); // extra field length
    parts.push(local.buffer, name, entry.data);

    const record = new DataView(new ArrayBuffer(46));
    record.setUint32(0, 0x02014b50, true); // central directory header signature
    record.setUint16(4, 20, true); // version made by
    record.setUint16(6, 20, true); // version needed
    record.setUint16(8, 0x0800, true);
    record.setUint16(10, 0, true);
    record.setUint16(12, time, true);
    record.setUint16(14, date, true);
    record.setUint32(16, crc, true);
    record.setUint32(20, size, true);
    record.setUint32(24, size, true);
    record.setUint16(28, name.length, true);
    // extra, comment, disk number, internal and external attributes: 0
    record.setUint32(42, offset, true); // where the local header starts
    central.push(new Uint8Array(record.buffer), name);
    offset += 30 + name.length + size;
  }
  const centralSize = central.reduce((sum, part) => sum + part.length, 0);
  const end = new DataView(new ArrayBuffer(22));
  end.setUint32(0, 0x06054b50, true); // end of central directory signature
  end.setUint16(8, entries.length, true); // entries on this disk
  end.setUint16(10, entries.length, true); // entries in all
  end.setUint32(12, centralSize, true);
  end.setUint32(16, offset, true); // where the central directory starts
  return new Blob([...parts, ...central, end.buffer], { type: 'application/zip' });
}
