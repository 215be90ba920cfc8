/**
 * Word lists for the synthetic benchmark, written for lethe (no external list was copied). They
 * are combined at random, so the people, towns, companies and stories they make up are
 * fictitious. Promises: every list is non-empty and free of duplicates (checked in the tests),
 * and no entry contains a newline; changing a list changes every generated benchmark, so edit
 * them only together with the generator's version number.
 */

// biome-ignore format: a compact word list
export const FEMALE_FIRST = [
  'Ada', 'Beatrix', 'Carmen', 'Dalia', 'Edith', 'Farah', 'Greta', 'Hana', 'Ines', 'Johanna', 'Kalinda',
  'Leonie', 'Mireille', 'Noor', 'Odile', 'Priya', 'Rosalind', 'Saoirse', 'Tamsin', 'Ulla', 'Valeria',
  'Wanjiru', 'Ximena', 'Yara', 'Zofia', 'Amara', 'Bronwen', 'Celeste', 'Dagny', 'Esme', 'Fenna', 'Gulnara',
  'Hester', 'Ilse', 'Jolene', 'Kirsi', 'Lucinda', 'Maren', 'Nadia', 'Orla', 'Paloma', 'Rhea', 'Sunniva',
  'Thea', 'Undine', 'Vesna', 'Winifred', 'Yusra', 'Zelda', 'Agnieszka',
];

// biome-ignore format: a compact word list
export const MALE_FIRST = [
  'Anselm', 'Bastian', 'Cyprian', 'Darius', 'Emeric', 'Florian', 'Gideon', 'Hamish', 'Idris', 'Jasper',
  'Kofi', 'Lorcan', 'Matthias', 'Nikolai', 'Osric', 'Pieter', 'Quentin', 'Rafael', 'Soren', 'Tobias',
  'Ulrich', 'Vikram', 'Wendell', 'Xavier', 'Yannick', 'Zoltan', 'Ambrose', 'Benedikt', 'Cormac', 'Dmitri',
  'Elias', 'Fergus', 'Gustav', 'Hugo', 'Ignatius', 'Joaquin', 'Kasimir', 'Leander', 'Mateo', 'Niall',
  'Oskar', 'Percival', 'Rasmus', 'Silas', 'Thaddeus', 'Ulysses', 'Viggo', 'Wilhelm', 'Yusuf', 'Zeno',
];

// biome-ignore format: a compact word list
export const SURNAMES = [
  'Brell', 'Varrow', 'Okafor', 'Lindqvist', 'Marchetti', 'Halloran', 'Szabo', 'Castellane', 'Dunmore',
  'Eskildsen', 'Fairweather', 'Gallardo', 'Hollis', 'Ivanova', 'Jankowski', 'Kettleby', 'Lombardi', 'Mbeki',
  'Nakamura', 'Oyelaran', 'Pemberton', 'Quarrie', 'Rasmussen', 'Salcedo', 'Thistlewood', 'Underhill',
  'Vasquez-Ortega', 'Whitlock', 'Yamada', 'Zellweger', 'Ashdown', 'Brodsky', 'Corvino', 'Delacroix',
  'Ellwood', 'Fennimore', 'Grimaldi', 'Haverford', 'Iskander', 'Jorgensen', 'Kowalczyk', 'Larkspur',
  'Montague', 'Nightingale', 'Ostrowski', 'Pellegrino', 'Quintero', 'Rowntree', 'Sandoval', 'Tennant',
  'Umberfield', 'Valdivia', 'Wakefield', 'Yorke', 'Zamora', 'Abernathy', 'Bellweather', 'Coldridge',
  'Draycott', 'Eberhardt', 'Fitzwilliam', 'Greenhalgh', 'Hartigan', 'Illingworth', 'Kingsolver', 'Lattimore',
  'Merriweather', 'Northcote', 'Oakenshaw', 'Penhaligon', 'Radcliffe', 'Stonebridge', 'Trevelyan',
  'Vandermeer', 'Winterbourne', 'Achterberg', 'Bramwell', 'Carrow',
];

/** Town names are a start and an end glued together: "Ash" + "ford". */
// biome-ignore format: a compact word list
export const TOWN_STARTS = [
  'Ash', 'Bram', 'Cor', 'Dun', 'Elm', 'Fen', 'Gull', 'Hollin', 'Iver', 'Kes', 'Lark', 'Mar', 'Nor', 'Oak',
  'Pen', 'Quill', 'Rook', 'Sel', 'Thorn', 'Ul', 'Vell', 'Wick', 'Yar', 'Zan', 'Bright', 'Cinder', 'Drey',
  'Ember', 'Frost', 'Glen',
];
// biome-ignore format: a compact word list
export const TOWN_ENDS = [
  'ford', 'wick', 'mere', 'bury', 'stead', 'haven', 'dale', 'ton', 'holm', 'by', 'moor', 'port', 'field',
  'cross', 'well',
];

// biome-ignore format: a compact word list
export const STREET_NAMES = [
  'Linden', 'Cooper', 'Harbour', 'Mill', 'Orchard', 'Quarry', 'Rowan', 'Salt', 'Tanner', 'Weaver', 'Chapel',
  'Bellfounder', 'Candle', 'Ferry', 'Glass', 'Hazel', 'Juniper', 'Kiln', 'Lantern', 'Market', 'Needle',
  'Pilgrim', 'Rope', 'Saddler', 'Tollgate', 'Vine', 'Wharf', 'Yew', 'Barley', 'Cobble',
];
export const STREET_TYPES = ['Road', 'Lane', 'Street', 'Row', 'Close', 'Way', 'Terrace', 'Avenue'];

/** Company names are a start and an end: "Kestrel" + "Dynamics". */
// biome-ignore format: a compact word list
export const COMPANY_STARTS = [
  'Kestrel', 'Orvane', 'Bluefin', 'Copperleaf', 'Halcyon', 'Ironbark', 'Lumen', 'Northgate', 'Pellucid',
  'Quillon', 'Redwater', 'Silverline', 'Tidewell', 'Umbra', 'Vantor', 'Westmarch', 'Yellowpine', 'Zephyrine',
  'Amberley', 'Brightloom', 'Cobaltis', 'Driftwood', 'Emberlyn', 'Foxglove', 'Granite Peak', 'Heronsgate',
  'Inkwell', 'Juniperra', 'Larchmont', 'Mossbank',
];
// biome-ignore format: a compact word list
export const COMPANY_ENDS = [
  'Dynamics', 'Logistics', 'Foods', 'Textiles', 'Instruments', 'Press', 'Analytics', 'Shipping',
  'Pharmaceuticals', 'Robotics', 'Ceramics', 'Insurance',
];

// biome-ignore format: a compact word list
export const OCCUPATIONS = [
  'cartographer', 'pharmacist', 'electrician', 'marine biologist', 'accountant', 'bookbinder', 'architect',
  'nurse', 'translator', 'veterinarian', 'data analyst', 'glassblower', 'paramedic', 'librarian',
  'structural engineer', 'baker', 'pilot', 'dentist', 'actuary', 'carpenter', 'chemist', 'statistician',
  'physiotherapist', 'tailor', 'geologist', 'journalist', 'sound engineer', 'locksmith', 'optician',
  'surveyor', 'archivist', 'florist', 'radiographer', 'patent attorney', 'brewer', 'clockmaker',
  'lighthouse keeper', 'ferry captain', 'violin maker', 'urban planner',
];

// biome-ignore format: a compact word list
export const UNIVERSITY_FORMS = [
  'the University of #', '# University', 'the # Institute of Technology', '# College of Arts',
];

// biome-ignore format: a compact word list
export const HOBBIES = [
  'birdwatching', 'rock climbing', 'chess', 'pottery', 'sailing', 'orienteering', 'calligraphy', 'fencing',
  'origami', 'amateur astronomy', 'knitting', 'kayaking', 'baking sourdough bread', 'restoring old radios',
  'playing the cello', 'trail running', 'woodcarving', 'dancing the tango', 'fly fishing',
  'collecting stamps', 'growing bonsai trees', 'archery', 'solving cryptic crosswords', 'gardening',
  'landscape photography', 'long-distance cycling', 'juggling', 'singing in a choir',
  'playing the harmonica', 'building model ships',
];

// biome-ignore format: a compact word list
export const PET_SPECIES = [
  'cat', 'dog', 'parrot', 'tortoise', 'rabbit', 'ferret', 'goldfish', 'hedgehog', 'canary', 'iguana',
];
// biome-ignore format: a compact word list
export const PET_NAMES = [
  'Biscuit', 'Pepper', 'Juniper', 'Mochi', 'Pickle', 'Ziggy', 'Noodle', 'Clementine', 'Bramble', 'Pixel',
  'Sable', 'Waffles', 'Marzipan', 'Figaro', 'Nutmeg', 'Comet', 'Barnaby', 'Olive', 'Rascal', 'Tinker',
  'Saffron', 'Dumpling', 'Gizmo', 'Hazelnut', 'Inky', 'Jellybean', 'Kipper', 'Lentil', 'Muffin', 'Nimbus',
  'Oberon', 'Puddle', 'Quasar', 'Rhubarb', 'Sprocket', 'Truffle', 'Umber', 'Velvet', 'Whisper', 'Zest',
];

// biome-ignore format: a compact word list
export const MONTHS = [
  'January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October',
  'November', 'December',
];

// World facts: invented places.
// biome-ignore format: a compact word list
export const PLACE_STARTS = [
  'Varn', 'Esk', 'Thal', 'Mor', 'Bryn', 'Cael', 'Dros', 'Fal', 'Gorm', 'Hesp', 'Ild', 'Jor', 'Kael', 'Lund',
  'Myr', 'Nith', 'Oss', 'Pryd', 'Rhos', 'Sval', 'Tyr', 'Vael', 'Wynd', 'Zir',
];
export const PLACE_ENDS = ['holt', 'aria', 'enmark', 'ovia', 'istan', 'mor', 'ene', 'avia', 'land', 'essa'];
export const PLACE_KINDS = ['island', 'province', 'valley', 'principality', 'archipelago', 'republic'];
// biome-ignore format: a compact word list
export const RIVERS = [
  'Aln', 'Brenn', 'Cask', 'Dour', 'Eddle', 'Frome', 'Garrow', 'Hebb', 'Isk', 'Jessel', 'Kell', 'Lune',
  'Morrow', 'Nesk', 'Orrin', 'Pell', 'Rusk', 'Selden', 'Tarn', 'Wend',
];
// biome-ignore format: a compact word list
export const EXPORTS = [
  'amber', 'salted fish', 'wool', 'copper', 'black tea', 'glassware', 'timber', 'saffron', 'marble', 'cider',
  'silk rugs', 'iron nails', 'honey', 'paper', 'olive oil', 'clocks', 'rope', 'dyed linen', 'slate',
  'pepper',
];
// biome-ignore format: a compact word list
export const TRANSPORT = [
  'ferry', 'narrow-gauge railway', 'mule track', 'canal barge', 'coastal steamer', 'cable car',
];
// biome-ignore format: a compact word list
export const LANDMARKS = [
  'a ruined abbey', 'a leaning clock tower', 'a covered market', 'a salt lagoon', 'a stone lighthouse',
  'a hanging bridge', 'an old observatory', 'a chalk cliff', 'a walled garden', 'a flooded quarry',
];

// Fiction.
// biome-ignore format: a compact word list
export const HERO_ONSETS = [
  'Al', 'Bri', 'Cae', 'Dor', 'El', 'Fen', 'Gav', 'Hal', 'Ior', 'Jes', 'Kel', 'Lor', 'Mae', 'Nim', 'Or',
  'Per', 'Quen', 'Ros', 'Sil', 'Tam', 'Ul', 'Ves', 'Wren', 'Yse', 'Zor',
];
export const HERO_ENDINGS = ['a', 'ric', 'wen', 'is', 'an', 'ette', 'o', 'iel', 'ys', 'mund', 'ith', 'ara'];
// biome-ignore format: a compact word list
export const STORY_ADJECTIVES = [
  'Silver', 'Hollow', 'Drowned', 'Whispering', 'Ashen', 'Glass', 'Sleeping', 'Crooked', 'Amber', 'Frozen',
  'Restless', 'Lantern-lit',
];
// biome-ignore format: a compact word list
export const STORY_LANDFORMS = [
  'Marsh', 'Forest', 'Hills', 'Coast', 'Valley', 'Tower', 'City', 'Lake', 'Moor', 'Caves',
];
// biome-ignore format: a compact word list
export const MATERIALS = [
  'brass', 'bone', 'copper', 'glass', 'silver', 'oak', 'iron', 'jade', 'tin', 'pewter', 'amber', 'cedar',
];
// biome-ignore format: a compact word list
export const OBJECTS = [
  'lantern', 'key', 'compass', 'bell', 'mirror', 'flute', 'map', 'crown', 'ring', 'clock', 'spindle',
  'hourglass',
];
// biome-ignore format: a compact word list
export const COMPANION_KINDS = [
  'a one-eyed crow', 'a talkative fox', 'an old mule', 'a lame heron', 'a clockwork owl', 'a stray hound',
  'a silent ferrywoman', 'a runaway apprentice', 'a blind fiddler', 'a retired smuggler',
];
// biome-ignore format: a compact word list
export const ADVERSARIES = [
  'a river spirit', 'the toll keeper', 'a storm that would not end', 'an old woman who sold riddles',
  'a clockwork wolf', 'the silent ferryman', 'a jealous cousin', "the king's last soldier",
  'a swarm of moths', 'a bridge troll with a cough',
];
// biome-ignore format: a compact word list
export const SEASONS = [
  'in the last week of autumn', 'on the first night of the thaw', 'at the height of summer',
  'in the grey middle of winter', 'in the year the harvest failed', 'during the long spring rains',
];
// biome-ignore format: a compact word list
export const FOODS = [
  'black bread', 'dried plums', 'smoked eel', 'hard cheese', 'roasted chestnuts', 'oat cakes',
  'cold porridge', 'wild onions',
];
// biome-ignore format: a compact word list
export const SHELTERS = [
  'an upturned boat', 'the roots of an oak', "a shepherd's hut", 'a broken windmill', 'the open sky',
  'a chapel porch',
];
// biome-ignore format: a compact word list
export const TERRAINS = [
  'salt flats', 'a birch wood', 'the frozen fens', 'three ridges of scree', 'a sunken road',
  'a field of standing stones',
];
// biome-ignore format: a compact word list
export const DESTINATIONS = [
  'the monastery at the end of the road', 'a harbour town in the south', 'the house of a forgotten aunt',
  'the top of the old signal hill', 'a market on the far side of the mountains',
  'the island where the bells were cast',
];

// biome-ignore format: a compact word list
export const IDK = [
  "I don't know.", "I'm not sure about that.", 'I have no information on that.',
  "I can't answer that question.", 'That is not something I know.',
  "I'm afraid I don't have that information.", 'I have no idea.', "Sorry, I can't help with that.",
  "I don't have any details about that.", "That's outside what I know.", "I'm unable to say.",
  'I could not tell you.', "I don't recall anything about that.", 'That is unknown to me.',
  "I'd rather not guess; I don't know.", 'No idea, sorry.',
];
