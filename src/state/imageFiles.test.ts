import { describe, expect, it } from 'vitest';
import { isImageFile } from './imageFiles';

describe('isImageFile', () => {
  it('hands the worker every file that may be a picture, for its bytes to decide', () => {
    expect(isImageFile({ name: 'noext', type: '' })).toBe(true);
    expect(isImageFile({ name: 'IMG_0001', type: 'application/octet-stream' })).toBe(true);
    expect(isImageFile({ name: 'page.jpg', type: 'image/jpeg' })).toBe(true);
    expect(isImageFile({ name: 'logo.svg', type: 'image/svg+xml' })).toBe(true);
    expect(isImageFile({ name: 'photo.HEIC', type: '' })).toBe(true);
  });

  it('skips, unread, files that say they are something else', () => {
    expect(isImageFile({ name: 'notes.txt', type: 'text/plain' })).toBe(false);
    expect(isImageFile({ name: 'scan.pdf', type: 'application/pdf' })).toBe(false);
    expect(isImageFile({ name: 'report.docx', type: '' })).toBe(false);
    expect(isImageFile({ name: '.DS_Store', type: '' })).toBe(false);
  });
});
