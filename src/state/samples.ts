/** The bundled sample images ("Try the samples"): a JSON list of files and their true labels. */

export interface SampleEntry {
  file: string;
  label: string;
}

export interface SampleSet {
  files: File[];
  /** Distinct labels in the order they first appear. */
  labels: string[];
}

function parseSampleList(json: unknown): SampleEntry[] {
  if (!Array.isArray(json)) throw new Error('samples.json should be a list of { file, label } entries.');
  return json.map((item, index) => {
    const { file, label } = (item ?? {}) as Record<string, unknown>;
    if (typeof file !== 'string' || typeof label !== 'string' || file === '' || label.trim() === '') {
      throw new Error(`Entry ${index + 1} of samples.json needs a "file" and a "label".`);
    }
    return { file, label };
  });
}

async function fetchOk(fetchFn: typeof fetch, url: string): Promise<Response> {
  const response = await fetchFn(url);
  if (!response.ok) throw new Error(`Could not load ${url} (HTTP ${response.status}).`);
  return response;
}

/** Fetches `${samplesUrl}samples.json` and every image it lists, as Files the drop zone could have produced. */
export async function fetchSampleSet(fetchFn: typeof fetch, samplesUrl: string): Promise<SampleSet> {
  const entries = parseSampleList(await (await fetchOk(fetchFn, `${samplesUrl}samples.json`)).json());
  const files = await Promise.all(
    entries.map(async ({ file }) => {
      const blob = await (await fetchOk(fetchFn, `${samplesUrl}${encodeURIComponent(file)}`)).blob();
      // A fixed lastModified makes a second click recognise the samples as already added.
      return new File([blob], file, { type: blob.type || 'image/png', lastModified: 0 });
    }),
  );
  const labels = [...new Set(entries.map((entry) => entry.label.trim()))];
  return { files, labels };
}
