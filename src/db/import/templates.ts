import { OPEN_INTERVIEW_CERTIFICATION_COLUMNS } from './open-interview-rows.js';
import type { FileFormat } from './records.js';

/** The import formats, each with example rows: `qbank import template [name]` prints them. */
export interface ImportTemplate {
  name: string;
  /** The system whose database the file goes into. */
  system: 'pingtopass' | 'open-interview';
  /** The command that imports the file, FILE standing for it (the command layer adds the options). */
  command: string;
  /** Options the import needs besides the system, by name (without dashes) to an example value: what the format cannot hold. */
  options?: Array<[string, string]>;
  format: Extract<FileFormat, 'csv' | 'moodle-xml' | 'gift' | 'aiken'>;
  columns: string[];
  /** CSV formats: the header and example rows. */
  csv?: string;
  /** The example file's text, in its format. */
  example: string;
}

function csvLine(values: string[]): string {
  return values.map((value) => (/[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value)).join(',');
}

function template(name: string, command: string, columns: string[], rows: string[][]): ImportTemplate {
  const csv = [columns, ...rows].map(csvLine).join('\r\n') + '\r\n';
  return { name, system: name.startsWith('pingtopass') ? 'pingtopass' : 'open-interview', command, format: 'csv', columns, csv, example: csv };
}

/** PingToPass questions in a learning platform's format (see src/db/interchange). */
function interchangeTemplate(format: 'moodle-xml' | 'gift' | 'aiken', file: string, example: string, options: Array<[string, string]>): ImportTemplate {
  return { name: `pingtopass-questions-${format}`, system: 'pingtopass', command: `qbank import ${file}`, options, format, columns: [], example };
}

const GIFT_EXAMPLE = `$CATEGORY: $course$/top/CCNA-200-301

// = the right answer, ~ a wrong one, # feedback, #### the explanation
::arp::Which protocol maps a known IPv4 address to a MAC address?{
	=ARP#It asks who has the address.
	~DNS
	~DHCP
	####ARP broadcasts "who has 10.0.0.1?" and the owner answers with its MAC address.
}

// several right answers: weights that add up to 100%
Which two are private IPv4 ranges?{
	~%50%10.0.0.0/8
	~%50%192.168.0.0/16
	~%-100%8.8.8.0/24
}

OSPF uses link-state advertisements.{TRUE}
`;

const MOODLE_XML_EXAMPLE = `<?xml version="1.0" encoding="UTF-8"?>
<quiz>
  <question type="category">
    <category><text>$course$/top/CCNA-200-301</text></category>
  </question>
  <question type="multichoice">
    <!-- qbank: {"difficulty":2,"objective_id":"1.0"} -->
    <name><text>arp</text></name>
    <questiontext format="html"><text><![CDATA[<p>Which protocol maps a known IPv4 address to a MAC address?</p>]]></text></questiontext>
    <generalfeedback format="html"><text>ARP broadcasts "who has 10.0.0.1?" and the owner answers.</text></generalfeedback>
    <single>true</single>
    <answer fraction="100"><text>ARP</text></answer>
    <answer fraction="0"><text>DNS</text></answer>
    <answer fraction="0"><text>DHCP</text></answer>
    <tags><tag><text>arp</text></tag><tag><text>layer-2</text></tag></tags>
  </question>
</quiz>
`;

const AIKEN_EXAMPLE = `Which protocol maps a known IPv4 address to a MAC address?
A. ARP
B. DNS
C. DHCP
ANSWER: A

What is the default administrative distance of OSPF?
A) 90
B) 110
C) 120
ANSWER: B
`;

export const TEMPLATES: ImportTemplate[] = [
  template(
    'pingtopass-questions',
    'qbank import FILE',
    ['id', 'exam_code', 'type', 'text', 'option_a', 'option_b', 'option_c', 'option_d', 'option_e', 'option_f', 'correct', 'explanation', 'difficulty', 'objective_id', 'tags', 'reference_url', 'exhibit_url'],
    [
      [
        '',
        'CCNA-200-301',
        '',
        'Which protocol maps a known IPv4 address to a MAC address on the local network?',
        'ARP',
        'DNS',
        'DHCP',
        'ICMP',
        '',
        '',
        'A',
        'ARP broadcasts "who has 10.0.0.1?" and the owner answers with its MAC address.',
        '2',
        '1.0',
        'arp;layer-2',
        'https://www.rfc-editor.org/rfc/rfc826',
        '',
      ],
      [
        '',
        'CCNA-200-301',
        'multiple',
        'Which two statements about OSPF areas are true? (Choose two.)',
        'Area 0 is the backbone area.',
        'Every area must connect to area 0.',
        'Areas share one link-state database.',
        'A router can be in only one area.',
        '',
        '',
        'A;B',
        'All areas attach to the backbone (area 0).\nEach area keeps its own link-state database; ABRs sit in several areas.',
        '3',
        '3.0',
        '["ospf","routing"]',
        '',
        '',
      ],
    ],
  ),
  template(
    'pingtopass-exams',
    'qbank import exams FILE',
    ['code', 'name', 'vendor', 'category', 'passing_score', 'total_questions', 'time_limit', 'price', 'description'],
    [['CCNA-200-301', 'Cisco Certified Network Associate', 'Cisco', 'Networking', '825', '120', '120', '330', 'Network fundamentals, access, IP connectivity and services, security and automation.']],
  ),
  template(
    'open-interview-questions',
    'qbank import FILE',
    ['id', 'question', 'answer', 'explanation', 'difficulty', 'channel', 'sub_channel', 'tags', 'companies', 'diagram', 'source_url', 'eli5', 'tldr'],
    [
      [
        '',
        'What does a database index trade for faster reads?',
        'Extra storage and slower writes: every insert, update and delete must also maintain the index.',
        '## Why\n\nAn index is a second, sorted copy of some columns. Lookups become `O(log n)`, but each write now touches the table *and* every index on it.',
        'intermediate',
        'database',
        'indexing',
        'indexes;performance',
        'Google;Stripe',
        'flowchart LR\n  W[write] --> T[table]\n  W --> I[index]',
        'https://use-the-index-luke.com/',
        'An index is like the index at the back of a book: quick to look things up, but someone has to keep it up to date.',
        'Indexes speed reads and cost writes and space.',
      ],
    ],
  ),
  template(
    'open-interview-certifications',
    'qbank import certifications FILE',
    // the timestamps are left to the database
    OPEN_INTERVIEW_CERTIFICATION_COLUMNS.map((column) => column.name).filter((name) => name !== 'created_at' && name !== 'last_updated'),
    [
      [
        'ckad',
        'Certified Kubernetes Application Developer',
        'CNCF',
        'Design, build and run cloud-native applications on Kubernetes.',
        'box',
        'text-blue-500',
        'intermediate',
        'devops',
        '50',
        'CKAD',
        'https://www.cncf.io/training/certification/ckad/',
        '[{"name":"Application Design and Build","weight":20},{"name":"Application Deployment","weight":20}]',
        '[{"channel":"kubernetes","subChannel":"troubleshooting","weight":60}]',
        'kubernetes;cncf',
        'cka',
        'active',
        '0',
        '66',
        '120',
      ],
    ],
  ),
  interchangeTemplate('gift', 'bank.gift', GIFT_EXAMPLE, [['difficulty', '3']]),
  interchangeTemplate('moodle-xml', 'bank.xml', MOODLE_XML_EXAMPLE, [['difficulty', '3']]),
  interchangeTemplate('aiken', 'bank.txt', AIKEN_EXAMPLE, [['exam', 'CCNA-200-301'], ['difficulty', '3']]),
];
