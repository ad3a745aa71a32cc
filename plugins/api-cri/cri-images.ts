// The CRI ImageService over kukeon's image verbs, in the realm the pods run in. An image is known by its digest
// (its id here); every name stored for that digest is one of its repo tags.

import type { ControllerApi, ImageSummary } from '../../sdk';
import type { CriMessage } from './cri-records';
import { grpcError } from './grpc-status';
import { normalizeImageName, splitName } from './image-names';

interface Grouped {
  id: string;
  names: string[];
  size: number;
  user?: string;
}

function group(images: ImageSummary[]): Grouped[] {
  const byDigest = new Map<string, Grouped>();
  for (const i of images) {
    const g = byDigest.get(i.digest) ?? { id: i.digest, names: [], size: i.size, user: i.user };
    g.names.push(i.name);
    byDigest.set(i.digest, g);
  }
  return [...byDigest.values()];
}

function userOf(user: string | undefined): CriMessage {
  const name = (user ?? '').split(':')[0];
  if (/^\d+$/.test(name)) return { uid: { value: name }, username: '' };
  return { username: name };
}

function criImage(g: Grouped): CriMessage {
  const tags = g.names.filter((n) => !n.includes('@'));
  const repos = [...new Set(g.names.map((n) => splitName(n).repository))];
  return {
    id: g.id,
    repo_tags: tags,
    repo_digests: repos.map((r) => `${r}@${g.id}`),
    size: String(g.size),
    // the image's user: a numeric one is its uid, a name its username (the kubelet checks runAsNonRoot with them)
    ...userOf(g.user),
    pinned: false,
  };
}

export class CriImages {
  private realmMade: Promise<void> | undefined;

  constructor(
    private readonly api: ControllerApi,
    private readonly realm: string,
  ) {}

  /** Images live in the pods' realm: it is made (as apply makes a parent) before the first image call needs it. */
  private ensureRealm(): Promise<void> {
    this.realmMade ??= this.api
      .apply({
        text: JSON.stringify({ apiVersion: 'v1beta1', kind: 'Realm', metadata: { name: this.realm }, spec: {} }),
        source: 'CRI images',
      })
      .then((r) => {
        const failed = r.items.find((i) => i.action === 'failed');
        if (failed) throw new Error(failed.error);
      })
      .catch((err) => {
        this.realmMade = undefined;
        throw grpcError(err);
      });
    return this.realmMade;
  }

  private async listAll(): Promise<ImageSummary[]> {
    await this.ensureRealm();
    return this.api.listImages({ realm: this.realm });
  }

  private async find(image: string): Promise<Grouped | undefined> {
    const groups = group(await this.listAll());
    if (!image) return undefined;
    const wanted = normalizeImageName(image);
    const { repository, digest } = splitName(wanted);
    return groups.find(
      (g) =>
        g.id === image ||
        g.id === `sha256:${image}` ||
        (image.startsWith('sha256:') && g.id.startsWith(image)) ||
        (image.length >= 12 && /^[0-9a-f]+$/.test(image) && g.id.startsWith(`sha256:${image}`)) ||
        g.names.includes(wanted) ||
        (digest !== undefined && g.id === digest && g.names.some((n) => splitName(n).repository === repository)),
    );
  }

  /** An image as a container names it (a name, or an id from ImageStatus) -> the name it is stored under and its id. */
  async resolve(image: string): Promise<{ name: string; digest: string } | undefined> {
    const g = await this.find(image);
    if (!g) return undefined;
    const wanted = normalizeImageName(image);
    return { name: g.names.includes(wanted) ? wanted : g.names[0], digest: g.id };
  }

  async list(req: CriMessage): Promise<CriMessage> {
    const filter = req.filter?.image?.image;
    const groups = group(await this.listAll());
    const chosen = filter ? [await this.find(filter)].filter((g): g is Grouped => !!g) : groups;
    return { images: chosen.map(criImage) };
  }

  async status(req: CriMessage): Promise<CriMessage> {
    const g = await this.find(req.image?.image ?? '');
    return g ? { image: criImage(g), info: {} } : {};
  }

  async pull(req: CriMessage): Promise<CriMessage> {
    const ref = req.image?.image ?? '';
    const auth: CriMessage = req.auth ?? {};
    let username = auth.username;
    let password = auth.password;
    if (!username && auth.auth) [username, password] = Buffer.from(auth.auth, 'base64').toString().split(/:(.*)/s);
    const server = auth.server_address || splitName(normalizeImageName(ref)).repository.split('/')[0];
    const credentials = username ? [{ username, password: password ?? '', serverAddress: server }] : undefined;
    await this.ensureRealm();
    try {
      for await (const event of this.api.pullImage({ realm: this.realm, ref, ...(credentials ? { credentials } : {}) }))
        if (event.kind === 'done') return { image_ref: event.result.digest };
    } catch (err) {
      throw grpcError(err);
    }
    throw grpcError(new Error(`pulling ${ref} ended without a result`));
  }

  async remove(req: CriMessage): Promise<CriMessage> {
    const g = await this.find(req.image?.image ?? '');
    if (!g) return {}; // already gone: removal is idempotent
    try {
      for (const name of g.names) await this.api.removeImage({ realm: this.realm, ref: name });
    } catch (err) {
      throw grpcError(err);
    }
    return {};
  }

  async fsInfo(mountpoint: string): Promise<CriMessage> {
    const groups = group(await this.listAll());
    const used = groups.reduce((n, g) => n + g.size, 0);
    return {
      image_filesystems: [
        {
          timestamp: String(BigInt(Date.now()) * 1_000_000n),
          fs_id: { mountpoint },
          used_bytes: { value: String(used) },
          inodes_used: { value: '0' },
        },
      ],
      container_filesystems: [],
    };
  }
}
