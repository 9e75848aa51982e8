import { test } from 'node:test';
import assert from 'node:assert/strict';
import { francAll } from 'franc-min';
import { DETECTABLE_ISO3 } from '../../../src/indexer/text/language-codes.js';
import { trigramRanker } from '../../../src/indexer/text/trigram-ranking.js';

/**
 * The language ranking is franc-min's francAll, computed with a merged table: it must give the
 * same languages in the same order with the same scores, or documents would change language (and
 * stems) for a speed-up.
 */

const ONLY = Object.keys(DETECTABLE_ISO3);

const SAMPLES = [
  'The quick brown fox jumps over the lazy dog. Configuration files are read at start-up and validated against the schema before the service runs.',
  'Der schnelle braune Fuchs springt über den faulen Hund. Die Häuser in der Straße wurden im letzten Jahr renoviert und neu gestrichen.',
  "Le renard brun rapide saute par-dessus le chien paresseux. Les maisons de la rue ont été rénovées l'année dernière par la commune.",
  'El rápido zorro marrón salta sobre el perro perezoso. Las casas de la calle fueron renovadas el año pasado por el ayuntamiento.',
  'A raposa marrom rápida pula sobre o cão preguiçoso. As casas da rua foram renovadas no ano passado pela prefeitura da cidade.',
  'La volpe marrone veloce salta sopra il cane pigro. Le case della strada sono state rinnovate lo scorso anno dal comune di Roma.',
  'De snelle bruine vos springt over de luie hond. De huizen in de straat zijn vorig jaar door de gemeente opgeknapt en geverfd.',
  'Den snabba bruna räven hoppar över den lata hunden. Husen på gatan renoverades förra året av kommunen och målades om helt.',
  'Hızlı kahverengi tilki tembel köpeğin üzerinden atlar. Sokaktaki evler geçen yıl belediye tarafından yenilendi ve boyandı.',
  'A gyors barna róka átugrik a lusta kutya felett. Az utca házait tavaly felújította az önkormányzat, és újra is festette.',
  'Rubah cokelat yang cepat melompati anjing yang malas. Rumah-rumah di jalan itu direnovasi oleh pemerintah kota tahun lalu.',
  'Vulpea maro rapidă sare peste câinele leneș. Casele de pe stradă au fost renovate anul trecut de primăria orașului nostru.',
  'Быстрая коричневая лиса прыгает через ленивую собаку. Дома на улице были отремонтированы в прошлом году городскими властями.',
  'Швидка коричнева лисиця перестрибує через ледачого пса. Будинки на вулиці були відремонтовані минулого року міською владою.',
  'Бързата кафява лисица прескача мързеливото куче. Къщите на улицата бяха ремонтирани миналата година от общината на града.',
  'Брза смеђа лисица прескаче лењег пса. Куће у улици су прошле године обновљене од стране градске власти и поново окречене.',
  'الثعلب البني السريع يقفز فوق الكلب الكسول. تم تجديد المنازل في الشارع العام الماضي من قبل البلدية وإعادة طلائها بالكامل.',
  'छिटो खैरो स्याल अल्छी कुकुरमाथि उफ्रन्छ। सडकका घरहरू गत वर्ष नगरपालिकाले मर्मत गरेर फेरि रङ लगाएको थियो।',
  'Η γρήγορη καφέ αλεπού πηδάει πάνω από τον τεμπέλη σκύλο. Τα σπίτια του δρόμου ανακαινίστηκαν πέρσι από τον δήμο της πόλης.',
  '中文字符的测试文本，这里有很多汉字，用来检查脚本的识别是否与原来的实现完全相同，没有任何差别。这是第二句话。',
  '1234567890 !!! ??? 2024-01-01 12:00:00 --- *** ### 42 + 17 = 59; (3.14159) [x86_64] {json: true}',
  'function foo(bar) { return bar.map((x) => x * 2).filter(Boolean); } const config = require("./config.json"); export default foo;',
  'short',
  '',
];

function mixed(seed: number): string {
  // Deterministic text mixing languages, digits, punctuation and scripts.
  let s = '';
  let x = seed;
  while (s.length < 2500) {
    x = (x * 1103515245 + 12345) % 2147483648;
    s += SAMPLES[x % (SAMPLES.length - 2)]!.slice(x % 40, 60 + (x % 90)) + ' ';
  }
  return s;
}

test('ranks every sample exactly as francAll does: same languages, order and scores', () => {
  const rank = trigramRanker(ONLY);
  const values = [...SAMPLES, ...SAMPLES.map((s) => s.repeat(20)), ...Array.from({ length: 60 }, (_, i) => mixed(i + 1))];
  for (const v of values) {
    for (const minLength of [10, 60]) {
      assert.deepEqual(rank(v, minLength), francAll(v, { only: ONLY, minLength }), JSON.stringify(v.slice(0, 80)));
    }
  }
});

test('with another allowed list it still agrees, including scripts none of whose languages are allowed', () => {
  for (const only of [['eng', 'deu'], ['rus'], ['arb', 'eng'], ['ell'], ['cmn', 'eng']]) {
    const rank = trigramRanker(only);
    for (const v of SAMPLES) assert.deepEqual(rank(v, 10), francAll(v, { only, minLength: 10 }), `${only.join(',')}: ${v.slice(0, 40)}`);
  }
});

test('a value shorter than the minimum length is undetermined', () => {
  assert.deepEqual(trigramRanker(ONLY)('too short', 60), [['und', 1]]);
});
