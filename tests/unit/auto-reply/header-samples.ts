/**
 * Real header values. Google's: the form Gmail writes (mx.google.com; dkim/spf/dmarc with DMARC's policy
 * in a comment), as published in Google-hosted examples and deliverability guides. Microsoft's: the
 * syntax of the "Authentication-results message header" section of Microsoft's "Anti-spam message
 * headers in Microsoft 365" (no authserv-id, `compauth`, `action=`), and Exchange Online headers quoted
 * in MimeKit issues #490 and #527 (bare receiving domains between results, empty `header.from=`).
 */
export const GOOGLE_PASS = [
  'mx.google.com;',
  '       dkim=pass header.i=@example.com header.s=20230601 header.b=Ab3/xY+z;',
  '       spf=pass (google.com: domain of bounce@mail.example.com designates 192.0.2.1 as permitted sender) smtp.mailfrom=bounce@mail.example.com;',
  '       dmarc=pass (p=REJECT sp=REJECT dis=NONE) header.from=example.com',
].join('\r\n');
export const GOOGLE_DMARC_FAIL =
  'mx.google.com; spf=pass (google.com: domain of cameron.herold@gmail.com designates 209.85.220.41 as permitted sender) smtp.mailfrom=cameron.herold@gmail.com; dmarc=fail (p=QUARANTINE sp=NONE dis=QUARANTINE) header.from=cooalliance.com';
export const MICROSOFT_PASS =
  'spf=pass (sender IP is 40.107.22.54) smtp.mailfrom=contoso.com; dkim=pass (signature was verified) header.d=contoso.com;dmarc=pass action=none header.from=contoso.com;compauth=pass reason=100';
export const MICROSOFT_BESTGUESS =
  'spf=fail (sender IP is 1.1.1.1) smtp.mailfrom=eu-west-1.amazonses.com; recevingdomain.com; dkim=pass (signature was verified) header.d=domain.com;domain1.com; dmarc=bestguesspass action=none header.from=domain.com;';
export const MICROSOFT_TEMPERROR =
  'spf=temperror (sender IP is 1.1.1.1) smtp.helo=tes.test.ru; mydomain.com; dkim=none (message not signed) header.d=none;mydomain.com; dmarc=none action=none header.from=;';
