// Escaping for text placed into HTML (element content and quoted attribute values).
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
