/** The Graph emulator's stored message, shared by the emulator and its MIME delivery. */

export interface Recipient {
  emailAddress: { address: string; name?: string };
}

export interface GraphHeader {
  name: string;
  value: string;
}

/** A file attachment as Exchange stores it (`#microsoft.graph.fileAttachment`). */
export interface StoredAttachment {
  id: string;
  name: string;
  contentType: string;
  /** Bytes of the content. */
  size: number;
  /** Inline (shown in the HTML body) rather than listed; hasAttachments leaves these out. */
  isInline: boolean;
  contentId: string | null;
  /** The content, base64. */
  contentBytes: string;
  lastModifiedDateTime: string;
}

export interface StoredMessage {
  /** The immutable id: what a request with `Prefer: IdType="ImmutableId"` sees; the store's key. */
  id: string;
  /** The default REST id: what other requests see; it changes whenever the message moves. */
  restId: string;
  conversationId: string;
  internetMessageId: string;
  subject: string;
  text: string;
  /** The body as sent when its content type was HTML. */
  html?: string | null;
  from: Recipient | null;
  toRecipients: Recipient[];
  ccRecipients: Recipient[];
  bccRecipients: Recipient[];
  replyTo: Recipient[];
  receivedDateTime: string;
  sentDateTime: string | null;
  isDraft: boolean;
  isRead: boolean;
  categories: string[];
  folder: 'inbox' | 'drafts' | 'sentitems' | 'archive';
  internetMessageHeaders: GraphHeader[];
  /** internetMessageId of the message a createReply draft answers. */
  inReplyTo: string | null;
  attachments: StoredAttachment[];
}
