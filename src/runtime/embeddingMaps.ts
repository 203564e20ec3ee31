// The Embeddings page's artifacts in the browser: embeddings.zip (the index, every
// map and every dataset's thumbnail sprite sheet) is read once; the float16
// embeddings (embedding-vectors.zip, the heavy part: 15 MB for 10,000 x 768) are
// fetched the first time a neighbour search needs them. Zips are read with fflate
// (bundled from node_modules, no CDN) and decoded by the core.
import {strFromU8, unzipSync} from "fflate";
import {
  decodeEmbeddingMap,
  decodeEmbeddingVectors,
  EMBEDDING_MAPS_FORMAT,
  type EmbeddingMap,
  type EmbeddingMapEntry,
  type EmbeddingMapsIndex,
  type EmbeddingVectors
} from "../lib/embeddingMap.js";
import type {Sprite} from "../components/embeddingScatter.js";

export class EmbeddingMaps {
  private readonly maps = new Map<string, EmbeddingMap>();
  private readonly sprites = new Map<string, Promise<Sprite>>();
  private vectorArchive: Promise<Record<string, Uint8Array>> | undefined;
  private readonly vectorCache = new Map<string, Promise<EmbeddingVectors>>();

  private constructor(
    readonly index: EmbeddingMapsIndex,
    private readonly files: Record<string, Uint8Array>,
    private readonly fetchVectors: () => Promise<ArrayBuffer>
  ) {}

  /** `points`: the bytes of embeddings.zip; `vectors`: fetches embedding-vectors.zip when first needed. */
  static open(points: ArrayBuffer, vectors: () => Promise<ArrayBuffer>): EmbeddingMaps {
    const files = unzipSync(new Uint8Array(points));
    const raw = files["index.json"];
    if (!raw) throw new Error("embeddings.zip: no index.json");
    const index = JSON.parse(strFromU8(raw)) as EmbeddingMapsIndex;
    if (index.format !== EMBEDDING_MAPS_FORMAT) throw new Error(`embeddings.zip: index format ${JSON.stringify(index.format)}, expected ${EMBEDDING_MAPS_FORMAT}`);
    return new EmbeddingMaps(index, files, vectors);
  }

  private member(files: Record<string, Uint8Array>, name: string, archive: string): Uint8Array {
    const bytes = files[name];
    if (!bytes) throw new Error(`${archive}: no member ${name}`);
    return bytes;
  }

  map(entry: EmbeddingMapEntry): EmbeddingMap {
    let map = this.maps.get(entry.key);
    if (!map) {
      map = decodeEmbeddingMap(this.member(this.files, entry.points, "embeddings.zip"), entry.points);
      this.maps.set(entry.key, map);
    }
    return map;
  }

  /** The dataset's sprite sheet, decoded once and shared by its models' maps. */
  sprite(entry: EmbeddingMapEntry): Promise<Sprite> {
    const file = entry.thumbnails.file;
    let sprite = this.sprites.get(file);
    if (!sprite) {
      const blob = new Blob([this.member(this.files, file, "embeddings.zip") as BlobPart], {type: "image/png"});
      sprite = createImageBitmap(blob).then((image) => ({info: entry.thumbnails, image}));
      this.sprites.set(file, sprite);
    }
    return sprite;
  }

  /** Whether the embeddings have been fetched already (a neighbour search is then immediate). */
  get vectorsLoaded(): boolean {
    return this.vectorArchive !== undefined;
  }

  vectors(entry: EmbeddingMapEntry): Promise<EmbeddingVectors> {
    let vectors = this.vectorCache.get(entry.key);
    if (!vectors) {
      this.vectorArchive ??= this.fetchVectors().then((bytes) => unzipSync(new Uint8Array(bytes)));
      vectors = this.vectorArchive.then((files) => {
        const decoded = decodeEmbeddingVectors(this.member(files, entry.vectors, "embedding-vectors.zip"), entry.vectors);
        const map = this.map(entry);
        if (decoded.n !== map.n || decoded.ids.some((id, i) => id !== map.ids[i])) throw new Error(`${entry.vectors}: its ids differ from the map's (${entry.points})`);
        return decoded;
      });
      this.vectorCache.set(entry.key, vectors);
    }
    return vectors;
  }
}
