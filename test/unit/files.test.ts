import { unfold } from '../../src/api/multipart';
import { mimeTypeFor, sniffImageType } from '../../src/files/mimeTypes';
import { resolveRange } from '../../src/files/range';
import { checkKey } from '../../src/files/storage';

describe('Range headers', () => {
  it('resolves the three forms against the size', () => {
    expect(resolveRange('bytes=0-9', 100)).toEqual({ start: 0, end: 9 });
    expect(resolveRange('bytes=90-', 100)).toEqual({ start: 90, end: 99 });
    expect(resolveRange('bytes=-10', 100)).toEqual({ start: 90, end: 99 });
    expect(resolveRange('bytes=-500', 100)).toEqual({ start: 0, end: 99 });
    expect(resolveRange('bytes=50-5000', 100)).toEqual({ start: 50, end: 99 });
  });

  it('sends everything for no header, other units and several ranges, and refuses ranges past the end', () => {
    expect(resolveRange(undefined, 100)).toBeUndefined();
    expect(resolveRange('items=0-1', 100)).toBeUndefined();
    expect(resolveRange('bytes=0-1,5-6', 100)).toBeUndefined();
    expect(resolveRange('bytes=100-', 100)).toBe('unsatisfiable');
    expect(resolveRange('bytes=-0', 100)).toBe('unsatisfiable');
    expect(resolveRange('bytes=0-', 0)).toBe('unsatisfiable');
  });
});

describe('multipart bracket keys', () => {
  it('unfold into nested objects, as the SDKs encode them', () => {
    expect(
      unfold({ purpose: 'batch', 'expires_after[anchor]': 'created_at', 'expires_after[seconds]': '3600' }),
    ).toEqual({
      purpose: 'batch',
      expires_after: { anchor: 'created_at', seconds: '3600' },
    });
  });

  it('never write to a prototype', () => {
    const out = unfold({ '__proto__[polluted]': 'yes', 'constructor[prototype][polluted]': 'yes' });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.keys(out).sort()).toEqual(['__proto__', 'constructor']);
  });
});

describe('content types', () => {
  it('come from the extension, then the declared type, then octet-stream', () => {
    expect(mimeTypeFor('Report.CSV', 'application/octet-stream')).toBe('text/csv');
    expect(mimeTypeFor('photo.jpg', undefined)).toBe('image/jpeg');
    expect(mimeTypeFor('upload', 'image/png')).toBe('image/png');
    expect(mimeTypeFor('upload', 'not a type')).toBe('application/octet-stream');
    expect(mimeTypeFor('data.unknownext', undefined)).toBe('application/octet-stream');
  });

  it('of images are recognised from their first bytes', () => {
    expect(sniffImageType(Buffer.from('89504e470d0a1a0a', 'hex'))).toBe('image/png');
    expect(sniffImageType(Buffer.from('ffd8ffe0', 'hex'))).toBe('image/jpeg');
    expect(sniffImageType(Buffer.from('GIF89a'))).toBe('image/gif');
    expect(sniffImageType(Buffer.from('RIFF\0\0\0\0WEBPVP8 '))).toBe('image/webp');
    expect(sniffImageType(Buffer.from('hello world'))).toBeUndefined();
  });
});

describe('storage keys', () => {
  it('accept only ids Threadline mints', () => {
    expect(checkKey({ projectId: 'proj_default', fileId: 'file-0abc' })).toBeTruthy();
    for (const fileId of ['../x', 'a/b', '', '.', 'file-ü']) {
      expect(() => checkKey({ projectId: 'proj_default', fileId })).toThrow(/invalid storage key/);
    }
  });
});
