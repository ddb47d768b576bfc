// Function words of a few languages besides English (wink's English model flags English stop words
// itself), so keywords of French, German, Spanish, Italian, Portuguese and Dutch text are content
// words. Compact lists of the most frequent articles, pronouns, prepositions, conjunctions and
// auxiliaries; a word missing here can still show up as a keyword.
const LISTS: Readonly<Record<string, string>> = {
  fr: `au aux avec ce ces cet cette dans de des du elle elles en et est était être eu il ils je la le les
    leur leurs lui ma mais me même mes moi mon ne nos notre nous on ou où par pas pour qu que qui sa se
    ses son sont sur ta te tes toi ton tu un une vos votre vous y à été ont avait avons avez ai as a
    suis es sommes êtes très plus comme si ni donc car aussi tout tous toute toutes`,
  de: `aber als am an auch auf aus bei bin bis bist da dann das dass dem den der des die dies diese
    dieser dieses du durch ein eine einem einen einer eines er es für hat hatte haben hier ich ihr ihre
    im in ist ja jetzt kann kein keine mit man mein meine mich mir nach nicht noch nur ob oder sehr
    sein seine sich sie sind so über um und uns unser vom von vor war waren was wie wir wird wo zu zum
    zur werden wurde möchte habe`,
  es: `al algo como con de del desde donde el ella ellas ellos en entre era es esa ese eso esta este
    esto estos fue ha hay la las le les lo los mas me mi mis muy más nada ni no nos o otra otro para
    pero por que qué se sea ser si sin sobre son su sus también te tu tus un una uno unos y ya yo
    está están he has han fui`,
  it: `a al alla alle anche che chi ci come con da dal dalla del della delle dei degli di e ed è era gli
    ha hanno ho i il in io la le lei lo loro lui ma mi mia mio ne nei nel nella noi non o per più quella
    quello questa questo se si sia sono su sua suo sul sulla ti tra tu un una uno vi voi`,
  pt: `a ao aos as com como da das de do dos e ela elas ele eles em entre era essa esse esta este eu
    foi há isso isto já la lhe mais mas me meu minha muito na nas no nos não o os ou para pela pelo por
    que se sem ser seu sua são também te tem um uma você é está`,
  nl: `aan al alles als bij dan dat de der deze die dit doch door een en er haar heb heeft het hij hoe
    hun ik in is je kan maar me men met mij mijn na naar niet nog nu of om ons ook op over te tot u uit
    van veel voor was wat we wel werd wij wordt zal ze zich zij zijn zo`,
};

const SETS = new Map<string, ReadonlySet<string>>(
  Object.entries(LISTS).map(([lang, words]) => [lang, new Set(words.split(/\s+/).filter(Boolean))]),
);

/** Whether `word` (lower case) is a function word of `language` (ISO 639-1); false for unknown languages. */
export function isStopWord(language: string, word: string): boolean {
  return SETS.get(language)?.has(word) ?? false;
}
