import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';

const KEY_FILE = 'secret.key';
const VERSION = 'v1';

/**
 * Encrypts connection passwords at rest with AES-256-GCM. Each value gets a fresh 96-bit IV, and the
 * row it belongs to (its id) is authenticated as associated data, so a ciphertext copied to another
 * row does not decrypt. The key comes from MASS_SECRET_KEY or from a key file made on first start.
 */
export class SecretBox {
  private constructor(private readonly key: Buffer) {}

  /** The key from `secretKey` (base64, 32 bytes), else `<home>/secret.key`, created with mode 0600 when missing. */
  static async open(options: { secretKey: string | undefined; home: string }): Promise<SecretBox> {
    if (options.secretKey !== undefined)
      return new SecretBox(decodeKey(options.secretKey, 'MASS_SECRET_KEY'));
    const path = join(options.home, KEY_FILE);
    await mkdir(dirname(path), { recursive: true });
    try {
      // 'wx': of two processes starting at once, exactly one creates the file; the other reads it.
      const handle = await open(path, 'wx', 0o600);
      try {
        await handle.writeFile(`${randomBytes(32).toString('base64')}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const info = await stat(path);
    if ((info.mode & 0o077) !== 0) await chmod(path, 0o600);
    let text = await readFile(path, 'utf8');
    // A file being written by a concurrent first start: wait for its content.
    for (let i = 0; text.trim() === '' && i < 50; i++) {
      await new Promise((r) => setTimeout(r, 20));
      text = await readFile(path, 'utf8');
    }
    return new SecretBox(decodeKey(text.trim(), path));
  }

  encrypt(plaintext: string, boundTo: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(boundTo, 'utf8'));
    const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [VERSION, iv, cipher.getAuthTag(), data]
      .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
      .join('.');
  }

  /** Throws when the value was tampered with, belongs to another row or was made with another key. */
  decrypt(token: string, boundTo: string): string {
    const [version, iv, tag, data] = token.split('.');
    if (version !== VERSION || iv === undefined || tag === undefined || data === undefined)
      throw new Error('not an encrypted secret of a known version');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(boundTo, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    try {
      return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString(
        'utf8',
      );
    } catch {
      throw new Error(
        'the stored secret cannot be decrypted: the key changed (MASS_SECRET_KEY or secret.key) or the value was altered',
      );
    }
  }
}

function decodeKey(text: string, where: string): Buffer {
  const key = Buffer.from(text, 'base64');
  if (key.length !== 32 || !/^[A-Za-z0-9+/=_-]+$/.test(text))
    throw new Error(`${where} must be 32 random bytes in base64 (e.g. openssl rand -base64 32)`);
  return key;
}
