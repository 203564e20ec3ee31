// The model bundles under models/: manifests, file sizes and parity reports.
import {relative} from "node:path";
import {listBundles} from "../../loaders/bundles.js";

const bundles = listBundles().map((b) => ({...b, dir: relative(process.cwd(), b.dir)}));
process.stdout.write(JSON.stringify(bundles));
