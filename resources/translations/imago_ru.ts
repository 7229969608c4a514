<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="ru_RU">
<context>
    <name>BrowseController</name>
    <message>
        <location filename="../../desktop/controllers/browse.py" line="85"/>
        <source>Nothing indexed yet</source>
        <translation>Пока ничего не проиндексировано</translation>
    </message>
    <message>
        <location filename="../../desktop/controllers/browse.py" line="132"/>
        <source>Indexed images and regions: {count}</source>
        <translation>Проиндексировано изображений и областей: {count}</translation>
    </message>
</context>
<context>
    <name>BrowseControls</name>
    <message>
        <location filename="../../desktop/widgets/browse_controls.py" line="41"/>
        <source>Folder</source>
        <translation>Папка</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/browse_controls.py" line="41"/>
        <source>Name</source>
        <translation>Имя</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/browse_controls.py" line="41"/>
        <source>Date taken</source>
        <translation>Дата съёмки</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/browse_controls.py" line="42"/>
        <source>Date modified</source>
        <translation>Дата изменения</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/browse_controls.py" line="45"/>
        <source>Sort the browsed items (newest first by date)</source>
        <translation>Порядок просмотра (по дате — сначала новые)</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/browse_controls.py" line="47"/>
        <source>Only images from these days</source>
        <translation>Только снимки за эти дни</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/browse_controls.py" line="49"/>
        <source>modified</source>
        <translation>изменения</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/browse_controls.py" line="50"/>
        <source>taken</source>
        <translation>съёмки</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/browse_controls.py" line="61"/>
        <source>Show only images from these days, in browsing and in search results</source>
        <translation>Показывать только снимки за эти дни — при просмотре и в результатах поиска</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/browse_controls.py" line="71"/>
        <source>Thumbnail size</source>
        <translation>Размер миниатюр</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/browse_controls.py" line="87"/>
        <source>Date</source>
        <translation>Дата</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/browse_controls.py" line="88"/>
        <source>From</source>
        <translation>С</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/browse_controls.py" line="89"/>
        <source>To</source>
        <translation>По</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/browse_controls.py" line="119"/>
        <source>; taken {since} – {until}</source>
        <translation>; снято {since} – {until}</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/browse_controls.py" line="120"/>
        <source>; modified {since} – {until}</source>
        <translation>; изменено {since} – {until}</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/browse_controls.py" line="140"/>
        <source>Any date</source>
        <translation>Любая дата</translation>
    </message>
</context>
<context>
    <name>CurationController</name>
    <message>
        <location filename="../../desktop/controllers/curation.py" line="137"/>
        <source>The archive&apos;s index is read-only (read-only folder or medium): edits cannot be saved in it. Your edit was not saved.</source>
        <translation>Индекс архива только для чтения (папка или носитель только для чтения): правки в нём сохранить нельзя. Ваша правка не сохранена.</translation>
    </message>
    <message>
        <location filename="../../desktop/controllers/curation.py" line="153"/>
        <source>The edit could not be written now ({error}); it is kept and will be written later ({count} waiting)</source>
        <translation>Правку сейчас не удалось записать ({error}); она сохранена и будет записана позже (ждут записи: {count})</translation>
    </message>
    <message>
        <location filename="../../desktop/controllers/curation.py" line="158"/>
        <source>The archive is not available: your edit is kept and will be written when it is back ({count} waiting)</source>
        <translation>Архив недоступен: правка сохранена и будет записана, когда он вернётся (ждут записи: {count})</translation>
    </message>
    <message>
        <location filename="../../desktop/controllers/curation.py" line="166"/>
        <source>Description saved</source>
        <translation>Описание сохранено</translation>
    </message>
    <message>
        <location filename="../../desktop/controllers/curation.py" line="172"/>
        <source>Labels saved</source>
        <translation>Метки сохранены</translation>
    </message>
    <message>
        <location filename="../../desktop/controllers/curation.py" line="180"/>
        <source>Label not saved</source>
        <translation>Метка не сохранена</translation>
    </message>
    <message>
        <location filename="../../desktop/controllers/curation.py" line="181"/>
        <source>The label could not be saved: {error}</source>
        <translation>Не удалось сохранить метку: {error}</translation>
    </message>
    <message>
        <location filename="../../desktop/controllers/curation.py" line="188"/>
        <source>Description not saved</source>
        <translation>Описание не сохранено</translation>
    </message>
    <message>
        <location filename="../../desktop/controllers/curation.py" line="189"/>
        <source>The description could not be saved: {error}</source>
        <translation>Не удалось сохранить описание: {error}</translation>
    </message>
    <message>
        <location filename="../../desktop/controllers/curation.py" line="210"/>
        <source>Edits kept while the archive was unavailable are written: {count}</source>
        <translation>Записаны правки, отложенные, пока архив был недоступен: {count}</translation>
    </message>
    <message>
        <location filename="../../desktop/controllers/curation.py" line="214"/>
        <source>; {count} were for items no longer indexed</source>
        <translation>; {count} относились к элементам, которых больше нет в индексе</translation>
    </message>
</context>
<context>
    <name>DetailsPanel</name>
    <message>
        <location filename="../../desktop/widgets/label_list.py" line="18"/>
        <source>Categories</source>
        <translation>Категории</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/label_list.py" line="19"/>
        <source>Names</source>
        <translation>Названия</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/label_list.py" line="22"/>
        <source>Add a category…</source>
        <translation>Добавить категорию…</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/label_list.py" line="23"/>
        <source>Add a name…</source>
        <translation>Добавить название…</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/details_panel.py" line="96"/>
        <source>Curator&apos;s description (saved as you type)</source>
        <translation>Описание хранителя (сохраняется по мере ввода)</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/details_panel.py" line="122"/>
        <source>Generated caption</source>
        <translation>Сгенерированная подпись</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/details_panel.py" line="120"/>
        <source>Description</source>
        <translation>Описание</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/details_panel.py" line="105"/>
        <source>Written by the caption model; searchable like the description</source>
        <translation>Написано моделью подписей; по ней ищется, как по описанию</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/details_panel.py" line="106"/>
        <source>Use as description</source>
        <translation>Взять как описание</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/details_panel.py" line="107"/>
        <source>Copy the generated caption into the description, to edit it</source>
        <translation>Скопировать сгенерированную подпись в описание, чтобы её отредактировать</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/details_panel.py" line="141"/>
        <source>Select an image to see its details.</source>
        <translation>Выберите изображение, чтобы увидеть подробности.</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/details_panel.py" line="151"/>
        <source>Loading preview…</source>
        <translation>Загрузка просмотра…</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/details_panel.py" line="156"/>
        <source>  (region {w}×{h} at {x},{y})</source>
        <translation>  (область {w}×{h} в точке {x},{y})</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/details_panel.py" line="170"/>
        <source>Taken</source>
        <translation>Снято</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/details_panel.py" line="172"/>
        <source>Modified</source>
        <translation>Изменён</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/details_panel.py" line="175"/>
        <source>Size</source>
        <translation>Размер</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/details_panel.py" line="176"/>
        <source>{size} px, {bytes}</source>
        <translation>{size} пикс., {bytes}</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/details_panel.py" line="178"/>
        <source>Format</source>
        <translation>Формат</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/details_panel.py" line="179"/>
        <source>the archive&apos;s top folder</source>
        <translation>корневая папка архива</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/details_panel.py" line="181"/>
        <source>Folder</source>
        <translation>Папка</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/details_panel.py" line="214"/>
        <source>Replace description</source>
        <translation>Заменить описание</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/details_panel.py" line="215"/>
        <source>Replace the description you wrote with the generated caption?</source>
        <translation>Заменить ваше описание сгенерированной подписью?</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/details_panel.py" line="228"/>
        <source>No preview (file missing or unreadable)</source>
        <translation>Нет просмотра (файл отсутствует или не читается)</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/label_list.py" line="25"/>
        <source>confirmed</source>
        <translation>подтверждено</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/label_list.py" line="26"/>
        <source>The model suggested it with a score of {score:.2f}</source>
        <translation>Предложено моделью с оценкой {score:.2f}</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/label_list.py" line="27"/>
        <source>Confirm “{label}”</source>
        <translation>Подтвердить «{label}»</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/label_list.py" line="28"/>
        <source>Reject “{label}”: it is wrong for this item</source>
        <translation>Отклонить «{label}»: не подходит этому элементу</translation>
    </message>
</context>
<context>
    <name>DuplicateGroup</name>
    <message>
        <location filename="../../desktop/widgets/duplicate_group.py" line="30"/>
        <source>File</source>
        <translation>Файл</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/duplicate_group.py" line="31"/>
        <source>Pixels</source>
        <translation>Пиксели</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/duplicate_group.py" line="32"/>
        <source>File size</source>
        <translation>Размер файла</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/duplicate_group.py" line="33"/>
        <source>Taken</source>
        <translation>Снято</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/duplicate_group.py" line="34"/>
        <source>Modified</source>
        <translation>Изменён</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/duplicate_group.py" line="35"/>
        <source>Similarity</source>
        <translation>Сходство</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/duplicate_group.py" line="36"/>
        <source>Mark</source>
        <translation>Отметка</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/duplicate_group.py" line="37"/>
        <source>Full path</source>
        <translation>Полный путь</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/duplicate_group.py" line="40"/>
        <source>has a description</source>
        <translation>есть описание</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/duplicate_group.py" line="41"/>
        <source>largest ({pixels})</source>
        <translation>самая большая ({pixels})</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/duplicate_group.py" line="42"/>
        <source>oldest (modified {date})</source>
        <translation>самая старая (изменена {date})</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/duplicate_group.py" line="43"/>
        <source>largest file ({size})</source>
        <translation>самый большой файл ({size})</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/duplicate_group.py" line="44"/>
        <source>first by name</source>
        <translation>первая по имени</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/duplicate_group.py" line="46"/>
        <source>identical</source>
        <translation>идентичен</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/duplicate_group.py" line="47"/>
        <source>reference</source>
        <translation>образец</translation>
    </message>
</context>
<context>
    <name>DuplicatesWindow</name>
    <message>
        <location filename="../../desktop/dialogs/duplicates_window.py" line="80"/>
        <source>Duplicates</source>
        <translation>Дубликаты</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/duplicates_window.py" line="94"/>
        <source>Search again</source>
        <translation>Искать заново</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/duplicates_window.py" line="117"/>
        <location filename="../../desktop/dialogs/duplicates_window.py" line="339"/>
        <source>Keep</source>
        <translation>Оставить</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/duplicates_window.py" line="118"/>
        <source>Mark the selected files as the ones to keep (K)</source>
        <translation>Отметить выбранные файлы как те, что нужно оставить (K)</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/duplicates_window.py" line="120"/>
        <source>Mark as duplicate</source>
        <translation>Отметить как дубликат</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/duplicates_window.py" line="122"/>
        <source>Mark the selected files as duplicates (D)</source>
        <translation>Отметить выбранные файлы как дубликаты (D)</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/duplicates_window.py" line="123"/>
        <source>Clear mark</source>
        <translation>Снять отметку</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/duplicates_window.py" line="124"/>
        <source>Remove the marks of the selected files (U)</source>
        <translation>Снять отметки с выбранных файлов (U)</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/duplicates_window.py" line="125"/>
        <source>Open</source>
        <translation>Открыть</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/duplicates_window.py" line="132"/>
        <source>Accept all suggestions</source>
        <translation>Принять все предложения</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/duplicates_window.py" line="134"/>
        <source>Accept the suggestion of every group in which no file is marked yet</source>
        <translation>Принять предложения для всех групп, где ещё нет отметок</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/duplicates_window.py" line="139"/>
        <source>Copy paths of duplicates</source>
        <translation>Копировать пути дубликатов</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/duplicates_window.py" line="140"/>
        <source>Copy the full paths of the files marked as duplicates</source>
        <translation>Скопировать полные пути файлов, отмеченных как дубликаты</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/duplicates_window.py" line="143"/>
        <source>Export marked list…</source>
        <translation>Экспорт списка отметок…</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/duplicates_window.py" line="145"/>
        <source>Save the files marked as duplicates, each with the copy to keep, as CSV or JSON</source>
        <translation>Сохранить файлы, отмеченные как дубликаты, вместе с оставляемыми копиями, в CSV или JSON</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/duplicates_window.py" line="151"/>
        <source>Imago never deletes or moves files: the marks are notes for you, saved with the archive&apos;s index.</source>
        <translation>Imago никогда не удаляет и не перемещает файлы: отметки — это заметки для вас, они хранятся вместе с индексом архива.</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/duplicates_window.py" line="156"/>
        <source>Close</source>
        <translation>Закрыть</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/duplicates_window.py" line="190"/>
        <source>Looking for duplicates in {archive}…</source>
        <translation>Поиск дубликатов в {archive}…</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/duplicates_window.py" line="220"/>
        <source>The search for duplicates was stopped.</source>
        <translation>Поиск дубликатов остановлен.</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/duplicates_window.py" line="223"/>
        <source>Could not look for duplicates: {error}</source>
        <translation>Не удалось найти дубликаты: {error}</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/duplicates_window.py" line="340"/>
        <source>(suggested: keep)</source>
        <translation>(предложено: оставить)</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/duplicates_window.py" line="361"/>
        <source>JSON files (*.json)</source>
        <translation>Файлы JSON (*.json)</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/duplicates_window.py" line="361"/>
        <source>CSV files (*.csv)</source>
        <translation>Файлы CSV (*.csv)</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/duplicates_window.py" line="364"/>
        <source>Export marked list</source>
        <translation>Экспорт списка отметок</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/duplicates_window.py" line="379"/>
        <source>Saved {count} files marked as duplicates to {path}</source>
        <translation>Сохранено файлов, отмеченных как дубликаты: {count}, в {path}</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/duplicates_window.py" line="385"/>
        <source>The marked list could not be saved: {error}</source>
        <translation>Не удалось сохранить список отметок: {error}</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/duplicates_window.py" line="265"/>
        <source>Groups found: {groups} ({exact} of exact copies, {near} of near duplicates).</source>
        <translation>Найдено групп: {groups} (точных копий: {exact}, почти дубликатов: {near}).</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/duplicates_window.py" line="269"/>
        <source>No duplicates found.</source>
        <translation>Дубликаты не найдены.</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/duplicates_window.py" line="333"/>
        <source>The marks could not be saved: {error}</source>
        <translation>Не удалось сохранить отметки: {error}</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/duplicates_window.py" line="339"/>
        <source>Duplicate</source>
        <translation>Дубликат</translation>
    </message>
</context>
<context>
    <name>ExceptionHook</name>
    <message>
        <location filename="../../desktop/dialogs/error_dialog.py" line="25"/>
        <source>&lt;p&gt;&lt;b&gt;Something went wrong:&lt;/b&gt; {error}&lt;/p&gt;&lt;p&gt;Your work is saved (descriptions are saved as you edit). The details are in the log folder:&lt;br&gt;&lt;code&gt;{logs}&lt;/code&gt;&lt;/p&gt;</source>
        <translation>&lt;p&gt;&lt;b&gt;Что-то пошло не так:&lt;/b&gt; {error}&lt;/p&gt;&lt;p&gt;Ваша работа сохранена (описания сохраняются по мере правки). Подробности — в папке журналов:&lt;br&gt;&lt;code&gt;{logs}&lt;/code&gt;&lt;/p&gt;</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/error_dialog.py" line="65"/>
        <source>Imago — unexpected error</source>
        <translation>Imago — непредвиденная ошибка</translation>
    </message>
</context>
<context>
    <name>FacetsPanel</name>
    <message>
        <location filename="../../desktop/widgets/facets_panel.py" line="66"/>
        <source>Clear filter</source>
        <translation>Сбросить фильтр</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/facets_panel.py" line="67"/>
        <source>Show every folder and category again</source>
        <translation>Снова показать все папки и категории</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/facets_panel.py" line="69"/>
        <source>Folders</source>
        <translation>Папки</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/facets_panel.py" line="70"/>
        <source>Categories</source>
        <translation>Категории</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/facets_panel.py" line="73"/>
        <source>Curator categories and each image&apos;s best model category; the count includes every image that has the category among its top ones</source>
        <translation>Категории хранителя и лучшая категория модели для каждого изображения; в число входят все изображения, у которых эта категория среди первых</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/facets_panel.py" line="100"/>
        <location filename="../../desktop/widgets/facets_panel.py" line="101"/>
        <source>All folders</source>
        <translation>Все папки</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/facets_panel.py" line="105"/>
        <source>All categories</source>
        <translation>Все категории</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/facets_panel.py" line="156"/>
        <source>folder “{folder}”</source>
        <translation>папка «{folder}»</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/facets_panel.py" line="159"/>
        <source>category “{category}”</source>
        <translation>категория «{category}»</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/facets_panel.py" line="165"/>
        <source> — filter: {restriction}</source>
        <translation> — фильтр: {restriction}</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/facets_panel.py" line="183"/>
        <source>Filter: {restriction}</source>
        <translation>Фильтр: {restriction}</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/facets_panel.py" line="185"/>
        <source>All images</source>
        <translation>Все изображения</translation>
    </message>
</context>
<context>
    <name>FailuresDialog</name>
    <message>
        <location filename="../../desktop/dialogs/failures_dialog.py" line="32"/>
        <source>Empty file</source>
        <translation>Пустой файл</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/failures_dialog.py" line="33"/>
        <source>The file is empty (0 bytes); a copy may have failed.</source>
        <translation>Файл пуст (0 байт); возможно, копирование не удалось.</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/failures_dialog.py" line="36"/>
        <source>Not an image</source>
        <translation>Не изображение</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/failures_dialog.py" line="37"/>
        <source>The file has an image&apos;s name but holds something else.</source>
        <translation>У файла имя изображения, но внутри что-то другое.</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/failures_dialog.py" line="40"/>
        <source>Unsupported format</source>
        <translation>Неподдерживаемый формат</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/failures_dialog.py" line="41"/>
        <source>Imago cannot read this image format; convert it to JPEG, PNG or TIFF.</source>
        <translation>Imago не читает этот формат; преобразуйте файл в JPEG, PNG или TIFF.</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/failures_dialog.py" line="46"/>
        <source>Truncated file</source>
        <translation>Файл обрезан</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/failures_dialog.py" line="47"/>
        <source>The file ends too early; it was not copied or saved completely.</source>
        <translation>Файл обрывается: его скопировали или сохранили не полностью.</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/failures_dialog.py" line="52"/>
        <source>Damaged image</source>
        <translation>Повреждённое изображение</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/failures_dialog.py" line="53"/>
        <source>The image data is damaged; an earlier copy of the file may be intact.</source>
        <translation>Данные изображения повреждены; более ранняя копия файла может быть целой.</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/failures_dialog.py" line="58"/>
        <source>Too large</source>
        <translation>Слишком большое</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/failures_dialog.py" line="59"/>
        <source>The image is larger than Imago reads; a reduced copy can be indexed.</source>
        <translation>Изображение больше, чем может прочитать Imago; уменьшенную копию можно проиндексировать.</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/failures_dialog.py" line="64"/>
        <source>Suspiciously large image</source>
        <translation>Подозрительно большое изображение</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/failures_dialog.py" line="65"/>
        <source>The file claims an implausibly large picture and was not opened.</source>
        <translation>Файл заявляет неправдоподобно большой размер изображения и не был открыт.</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/failures_dialog.py" line="70"/>
        <source>Cannot be read</source>
        <translation>Не читается</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/failures_dialog.py" line="71"/>
        <source>The file cannot be read; check its permissions or the drive.</source>
        <translation>Файл не читается; проверьте права доступа или диск.</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/failures_dialog.py" line="74"/>
        <source>Broken link</source>
        <translation>Битая ссылка</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/failures_dialog.py" line="75"/>
        <source>The link points to a file that does not exist.</source>
        <translation>Ссылка указывает на несуществующий файл.</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/failures_dialog.py" line="78"/>
        <source>Link loop</source>
        <translation>Ссылка по кругу</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/failures_dialog.py" line="79"/>
        <source>The link points back to itself through other links.</source>
        <translation>Ссылка через другие ссылки указывает сама на себя.</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/failures_dialog.py" line="83"/>
        <source>Could not be indexed</source>
        <translation>Не удалось проиндексировать</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/failures_dialog.py" line="84"/>
        <source>An unexpected error; the Details column has the technical cause.</source>
        <translation>Непредвиденная ошибка; техническая причина — в столбце «Подробности».</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/failures_dialog.py" line="103"/>
        <source>Files that could not be indexed</source>
        <translation>Файлы, которые не удалось проиндексировать</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/failures_dialog.py" line="106"/>
        <source>Files that could not be indexed: {count}. Imago leaves them as they are; once a file is repaired or replaced, the next scan indexes it.</source>
        <translation>Файлов, которые не удалось проиндексировать: {count}. Imago их не трогает; когда файл исправят или заменят, следующее сканирование его проиндексирует.</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/failures_dialog.py" line="111"/>
        <source>File</source>
        <translation>Файл</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/failures_dialog.py" line="111"/>
        <source>Problem</source>
        <translation>Проблема</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/failures_dialog.py" line="111"/>
        <source>Details</source>
        <translation>Подробности</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/failures_dialog.py" line="115"/>
        <source>The indexer&apos;s message, as recorded</source>
        <translation>Сообщение индексатора в исходном виде</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/failures_dialog.py" line="135"/>
        <source>Copy list</source>
        <translation>Копировать список</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/failures_dialog.py" line="136"/>
        <source>Copy every row (tab-separated, in the order shown)</source>
        <translation>Скопировать все строки (через табуляцию, в показанном порядке)</translation>
    </message>
</context>
<context>
    <name>GridDelegate</name>
    <message>
        <location filename="../../desktop/widgets/grid_delegate.py" line="49"/>
        <source>exact copy</source>
        <translation>точная копия</translation>
    </message>
</context>
<context>
    <name>GridModel</name>
    <message>
        <location filename="../../desktop/widgets/grid_model.py" line="74"/>
        <source>{name} [region]</source>
        <translation>{name} [область]</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/grid_model.py" line="75"/>
        <source>{name}, photo {number} of {count}</source>
        <translation>{name}, фото {number} из {count}</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/grid_model.py" line="234"/>
        <source>Exact copy of the query</source>
        <translation>Точная копия образца</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/grid_model.py" line="235"/>
        <source>Strong match</source>
        <translation>Хорошее совпадение</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/grid_model.py" line="236"/>
        <source>Possible match</source>
        <translation>Возможное совпадение</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/grid_model.py" line="247"/>
        <source>{match} (score {score:.3f})</source>
        <translation>{match} (оценка {score:.3f})</translation>
    </message>
</context>
<context>
    <name>GroupHeader</name>
    <message>
        <location filename="../../desktop/widgets/duplicate_group.py" line="79"/>
        <source>Exact copies: {count} files (same content)</source>
        <translation>Точные копии: файлов — {count} (одинаковое содержимое)</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/duplicate_group.py" line="81"/>
        <source>Near duplicates: {count} files</source>
        <translation>Почти дубликаты: файлов — {count}</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/duplicate_group.py" line="85"/>
        <source>Suggestion: keep {path}: {reason}</source>
        <translation>Предложение: оставить «{path}»: {reason}</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/duplicate_group.py" line="91"/>
        <source>Accept suggestion</source>
        <translation>Принять предложение</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/duplicate_group.py" line="92"/>
        <source>Mark the suggested copy to keep and the others as duplicates</source>
        <translation>Отметить предложенную копию как оставляемую, а остальные — как дубликаты</translation>
    </message>
</context>
<context>
    <name>HealthController</name>
    <message>
        <location filename="../../desktop/controllers/health.py" line="128"/>
        <source>The archive is available again</source>
        <translation>Архив снова доступен</translation>
    </message>
    <message>
        <location filename="../../desktop/controllers/health.py" line="130"/>
        <source>The index can be read again</source>
        <translation>Индекс снова читается</translation>
    </message>
    <message>
        <location filename="../../desktop/controllers/health.py" line="151"/>
        <source>The damaged index is kept as {path}; indexing the archive anew</source>
        <translation>Повреждённый индекс сохранён как {path}; архив индексируется заново</translation>
    </message>
</context>
<context>
    <name>IndexStatus</name>
    <message>
        <location filename="../../desktop/widgets/index_status.py" line="11"/>
        <source>Read-only index: edits cannot be saved in it</source>
        <translation>Индекс только для чтения: правки в нём сохранить нельзя</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/index_status.py" line="26"/>
        <source>Pause</source>
        <translation>Пауза</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/index_status.py" line="42"/>
        <source>&lt;a href=&apos;#&apos;&gt;Failed: {count}&lt;/a&gt;</source>
        <translation>&lt;a href=&apos;#&apos;&gt;Ошибок: {count}&lt;/a&gt;</translation>
    </message>
</context>
<context>
    <name>IndexingController</name>
    <message>
        <location filename="../../desktop/controllers/indexing.py" line="70"/>
        <source>Not indexing: the index is read-only</source>
        <translation>Индексирование не идёт: индекс только для чтения</translation>
    </message>
    <message>
        <location filename="../../desktop/controllers/indexing.py" line="82"/>
        <source>Loading models…</source>
        <translation>Загрузка моделей…</translation>
    </message>
    <message>
        <location filename="../../desktop/controllers/indexing.py" line="112"/>
        <source>Settings saved; indexing started again with them</source>
        <translation>Настройки сохранены; индексация перезапущена с ними</translation>
    </message>
    <message>
        <location filename="../../desktop/controllers/indexing.py" line="114"/>
        <source>Settings saved; the language changes when Imago is next started</source>
        <translation>Настройки сохранены; язык сменится при следующем запуске Imago</translation>
    </message>
    <message>
        <location filename="../../desktop/controllers/indexing.py" line="117"/>
        <source>Settings saved; they apply to the next indexing run</source>
        <translation>Настройки сохранены; они применятся при следующей индексации</translation>
    </message>
    <message>
        <location filename="../../desktop/controllers/indexing.py" line="130"/>
        <source>Resume</source>
        <translation>Продолжить</translation>
    </message>
    <message>
        <location filename="../../desktop/controllers/indexing.py" line="131"/>
        <location filename="../../desktop/controllers/indexing.py" line="154"/>
        <source> (paused)</source>
        <translation> (пауза)</translation>
    </message>
    <message>
        <location filename="../../desktop/controllers/indexing.py" line="134"/>
        <source>Pause</source>
        <translation>Пауза</translation>
    </message>
    <message>
        <location filename="../../desktop/controllers/indexing.py" line="142"/>
        <source>Scanning</source>
        <translation>Сканирование</translation>
    </message>
    <message>
        <location filename="../../desktop/controllers/indexing.py" line="142"/>
        <source>Indexing</source>
        <translation>Индексация</translation>
    </message>
    <message>
        <location filename="../../desktop/controllers/indexing.py" line="142"/>
        <source>Reading dates</source>
        <translation>Чтение дат съёмки</translation>
    </message>
    <message>
        <location filename="../../desktop/controllers/indexing.py" line="143"/>
        <source>Describing</source>
        <translation>Описание</translation>
    </message>
    <message>
        <location filename="../../desktop/controllers/indexing.py" line="148"/>
        <source>, {rate:.1f}/s</source>
        <translation>, {rate:.1f}/с</translation>
    </message>
    <message>
        <location filename="../../desktop/controllers/indexing.py" line="175"/>
        <source>Not indexing: no image model could be loaded</source>
        <translation>Индексирование не идёт: не удалось загрузить модель изображений</translation>
    </message>
    <message>
        <location filename="../../desktop/controllers/indexing.py" line="178"/>
        <source>Indexing failed</source>
        <translation>Индексация не удалась</translation>
    </message>
    <message>
        <location filename="../../desktop/controllers/indexing.py" line="179"/>
        <source>Indexing failed: {error}</source>
        <translation>Индексация не удалась: {error}</translation>
    </message>
    <message>
        <location filename="../../desktop/controllers/indexing.py" line="187"/>
        <source>Indexing cancelled</source>
        <translation>Индексация отменена</translation>
    </message>
    <message>
        <location filename="../../desktop/controllers/indexing.py" line="187"/>
        <source>Index up to date</source>
        <translation>Индекс актуален</translation>
    </message>
    <message>
        <location filename="../../desktop/controllers/indexing.py" line="189"/>
        <source>{state}: searchable {items}; since opening: new {new}, moved {moved}</source>
        <translation>{state}: доступно для поиска {items}; с открытия архива: новых {new}, перемещено {moved}</translation>
    </message>
    <message>
        <location filename="../../desktop/controllers/indexing.py" line="202"/>
        <source> — watching for changes</source>
        <translation> — слежу за изменениями</translation>
    </message>
    <message>
        <location filename="../../desktop/controllers/indexing.py" line="203"/>
        <source> — rescan every {minutes} min</source>
        <translation> — повторное сканирование каждые {minutes} мин</translation>
    </message>
</context>
<context>
    <name>InstallModelsDialog</name>
    <message>
        <location filename="../../desktop/dialogs/install_models_dialog.py" line="22"/>
        <source>Install a model bundle</source>
        <translation>Установка пакета модели</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/install_models_dialog.py" line="28"/>
        <source>From &amp;folder…</source>
        <translation>Из &amp;папки…</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/install_models_dialog.py" line="29"/>
        <source>From &amp;zip…</source>
        <translation>Из &amp;zip-архива…</translation>
    </message>
</context>
<context>
    <name>ItemActions</name>
    <message>
        <location filename="../../desktop/controllers/item_actions.py" line="62"/>
        <source>Find similar</source>
        <translation>Найти похожие</translation>
    </message>
    <message>
        <location filename="../../desktop/controllers/item_actions.py" line="64"/>
        <source>Find similar in this folder</source>
        <translation>Найти похожие в этой папке</translation>
    </message>
    <message>
        <location filename="../../desktop/controllers/item_actions.py" line="67"/>
        <source>Only images in {folder} and its subfolders</source>
        <translation>Только изображения в {folder} и её подпапках</translation>
    </message>
    <message>
        <location filename="../../desktop/controllers/item_actions.py" line="69"/>
        <source>Open</source>
        <translation>Открыть</translation>
    </message>
    <message>
        <location filename="../../desktop/controllers/item_actions.py" line="70"/>
        <source>Show in file manager</source>
        <translation>Показать в файловом менеджере</translation>
    </message>
    <message>
        <location filename="../../desktop/controllers/item_actions.py" line="72"/>
        <source>Copy path</source>
        <translation>Копировать путь</translation>
    </message>
    <message>
        <location filename="../../desktop/controllers/item_actions.py" line="76"/>
        <source>Export selection…</source>
        <translation>Экспортировать выбранное…</translation>
    </message>
    <message>
        <location filename="../../desktop/controllers/item_actions.py" line="78"/>
        <source>Save the selected items ({count}) as JSON or CSV</source>
        <translation>Сохранить выбранные элементы ({count}) в JSON или CSV</translation>
    </message>
    <message>
        <location filename="../../desktop/controllers/item_actions.py" line="80"/>
        <source>Re-caption</source>
        <translation>Подписать заново</translation>
    </message>
    <message>
        <location filename="../../desktop/controllers/item_actions.py" line="83"/>
        <source>Generate the captions of the selected items ({count}) again</source>
        <translation>Заново сгенерировать подписи выбранных элементов ({count})</translation>
    </message>
    <message>
        <location filename="../../desktop/controllers/item_actions.py" line="90"/>
        <source>No caption model is installed: install a GIT model bundle (File › Install model bundle) to generate captions</source>
        <translation>Модель подписей не установлена: установите пакет модели GIT (Файл › Установить пакет модели), чтобы генерировать подписи</translation>
    </message>
    <message>
        <location filename="../../desktop/controllers/item_actions.py" line="126"/>
        <source>JSON files (*.json)</source>
        <translation>Файлы JSON (*.json)</translation>
    </message>
    <message>
        <location filename="../../desktop/controllers/item_actions.py" line="126"/>
        <source>CSV files (*.csv)</source>
        <translation>Файлы CSV (*.csv)</translation>
    </message>
    <message>
        <location filename="../../desktop/controllers/item_actions.py" line="129"/>
        <source>Export selection</source>
        <translation>Экспорт выбранного</translation>
    </message>
    <message>
        <location filename="../../desktop/controllers/item_actions.py" line="135"/>
        <source>Exporting {count} items to {path}…</source>
        <translation>Экспорт элементов ({count}) в {path}…</translation>
    </message>
    <message>
        <location filename="../../desktop/controllers/item_actions.py" line="139"/>
        <source>Exported {count} items to {path}</source>
        <translation>Экспортировано элементов: {count}, файл {path}</translation>
    </message>
    <message>
        <location filename="../../desktop/controllers/item_actions.py" line="145"/>
        <source>Generating captions for {count} items…</source>
        <translation>Генерация подписей для элементов: {count}…</translation>
    </message>
    <message>
        <location filename="../../desktop/controllers/item_actions.py" line="149"/>
        <source>New captions: {done}</source>
        <translation>Новых подписей: {done}</translation>
    </message>
    <message>
        <location filename="../../desktop/controllers/item_actions.py" line="151"/>
        <source>; failed: {failed} ({why})</source>
        <translation>; не удалось: {failed} ({why})</translation>
    </message>
    <message>
        <location filename="../../desktop/controllers/item_actions.py" line="161"/>
        <source>Not done</source>
        <translation>Не выполнено</translation>
    </message>
    <message>
        <location filename="../../desktop/controllers/item_actions.py" line="162"/>
        <source>{what} failed: {error}</source>
        <translation>{what}: ошибка: {error}</translation>
    </message>
</context>
<context>
    <name>ItemJobs</name>
    <message>
        <location filename="../../desktop/workers/item_jobs.py" line="76"/>
        <source>Export to {path}</source>
        <translation>Экспорт в {path}</translation>
    </message>
    <message>
        <location filename="../../desktop/workers/item_jobs.py" line="85"/>
        <source>Re-caption</source>
        <translation>Подписать заново</translation>
    </message>
</context>
<context>
    <name>MainView</name>
    <message>
        <location filename="../../desktop/widgets/main_view.py" line="35"/>
        <source>Search by text (Enter), or drop an image to find similar ones</source>
        <translation>Поиск по тексту (Enter) или перетащите изображение, чтобы найти похожие</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/main_view.py" line="43"/>
        <source>More results</source>
        <translation>Больше результатов</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/main_view.py" line="44"/>
        <source>Show the results below the relevance cut-off too</source>
        <translation>Показать и результаты ниже порога релевантности</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/main_view.py" line="45"/>
        <source>Show all files</source>
        <translation>Показать все файлы</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <location filename="../../desktop/main_window.py" line="173"/>
        <source>&amp;File</source>
        <translation>&amp;Файл</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="174"/>
        <source>&amp;Open archive…</source>
        <translation>&amp;Открыть архив…</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="175"/>
        <source>Open &amp;recent</source>
        <translation>&amp;Недавние</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="180"/>
        <source>Install model bundle from &amp;folder…</source>
        <translation>Установить пакет модели из &amp;папки…</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="181"/>
        <source>Install model bundle from &amp;zip…</source>
        <translation>Установить пакет модели из &amp;zip…</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="183"/>
        <source>&amp;Settings…</source>
        <translation>&amp;Настройки…</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="185"/>
        <source>&amp;Quit</source>
        <translation>&amp;Выход</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="187"/>
        <source>Find</source>
        <translation>Найти</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="189"/>
        <source>&amp;Edit</source>
        <translation>&amp;Правка</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="189"/>
        <source>Find similar to the &amp;pasted image</source>
        <translation>Найти похожие на &amp;вставленное изображение</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="193"/>
        <source>&amp;Tools</source>
        <translation>&amp;Сервис</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="194"/>
        <source>Find &amp;duplicates…</source>
        <translation>Найти &amp;дубликаты…</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="195"/>
        <source>&amp;Files that could not be indexed…</source>
        <translation>&amp;Файлы, которые не удалось проиндексировать…</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="252"/>
        <source>Open archive folder</source>
        <translation>Открыть папку архива</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="264"/>
        <source>Not a folder: {path}</source>
        <translation>Это не папка: {path}</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="279"/>
        <source>The archive is read-only; its index is kept in {path}</source>
        <translation>Архив только для чтения; его индекс хранится в {path}</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="162"/>
        <source>Cannot store the pasted image in {path}</source>
        <translation>Не удалось сохранить вставленное изображение в {path}</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="367"/>
        <source>Settings not saved</source>
        <translation>Настройки не сохранены</translation>
    </message>
</context>
<context>
    <name>MatchReasons</name>
    <message>
        <location filename="../../desktop/widgets/match_reasons.py" line="15"/>
        <source>file name</source>
        <translation>имя файла</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/match_reasons.py" line="16"/>
        <source>folder</source>
        <translation>папка</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/match_reasons.py" line="17"/>
        <source>caption</source>
        <translation>подпись</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/match_reasons.py" line="18"/>
        <source>description</source>
        <translation>описание</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/match_reasons.py" line="19"/>
        <source>labels</source>
        <translation>метки</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/match_reasons.py" line="30"/>
        <source>image similarity {score} ({first} {a}, {second} {b}, weight {weight})</source>
        <translation>сходство изображений {score} ({first} {a}, {second} {b}, вес {weight})</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/match_reasons.py" line="33"/>
        <source>image similarity {score}</source>
        <translation>сходство изображений {score}</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/match_reasons.py" line="34"/>
        <source>text-image similarity {score} (rank {rank})</source>
        <translation>сходство с текстом {score} (место {rank})</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/match_reasons.py" line="35"/>
        <source>partial keyword match in {column}: {words}</source>
        <translation>часть слов найдена в поле «{column}»: {words}</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/match_reasons.py" line="36"/>
        <source>keyword match in {column}: {words}</source>
        <translation>слова найдены в поле «{column}»: {words}</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/match_reasons.py" line="37"/>
        <source>weak match: below the relevance cut-off</source>
        <translation>слабое совпадение: ниже порога релевантности</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/match_reasons.py" line="38"/>
        <source>exact duplicate: same file content as the query</source>
        <translation>точная копия: то же содержимое файла, что у образца</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/match_reasons.py" line="39"/>
        <source>part of the same file as the query</source>
        <translation>часть того же файла, что и образец</translation>
    </message>
</context>
<context>
    <name>ModelsController</name>
    <message>
        <location filename="../../desktop/controllers/models.py" line="38"/>
        <source>Model bundle folder</source>
        <translation>Папка пакета модели</translation>
    </message>
    <message>
        <location filename="../../desktop/controllers/models.py" line="44"/>
        <source>Model bundle zip</source>
        <translation>Zip-архив пакета модели</translation>
    </message>
    <message>
        <location filename="../../desktop/controllers/models.py" line="44"/>
        <source>Zip archives (*.zip)</source>
        <translation>Zip-архивы (*.zip)</translation>
    </message>
    <message>
        <location filename="../../desktop/controllers/models.py" line="51"/>
        <source>Installing model bundle from {path}…</source>
        <translation>Установка пакета модели из {path}…</translation>
    </message>
    <message>
        <location filename="../../desktop/controllers/models.py" line="56"/>
        <source>Installed model bundle {name}</source>
        <translation>Установлен пакет модели {name}</translation>
    </message>
    <message>
        <location filename="../../desktop/controllers/models.py" line="60"/>
        <source>Could not install the bundle: {error}</source>
        <translation>Не удалось установить пакет: {error}</translation>
    </message>
    <message>
        <location filename="../../desktop/controllers/models.py" line="61"/>
        <source>Model bundle not installed</source>
        <translation>Пакет модели не установлен</translation>
    </message>
</context>
<context>
    <name>ModelsNotice</name>
    <message>
        <location filename="../../desktop/widgets/models_notice.py" line="11"/>
        <source>Text search by meaning needs a CLIP model bundle; until then it matches file names, tags and descriptions.</source>
        <translation>Для поиска по смыслу текста нужен пакет модели CLIP; пока его нет, поиск идёт по именам файлов, меткам и описаниям.</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/models_notice.py" line="16"/>
        <source>&lt;p&gt;Indexing, find similar and object names use the built-in image model.&lt;/p&gt;</source>
        <translation>&lt;p&gt;Индексирование, поиск похожих и названия предметов работают на встроенной модели изображений.&lt;/p&gt;</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/models_notice.py" line="21"/>
        <source>&lt;p&gt;Imago downloads nothing. Model bundles are made once on a computer with internet access, in a
source checkout of Imago with its &lt;code&gt;[export]&lt;/code&gt; extra (torch, transformers, optimum-onnx):&lt;/p&gt;
&lt;pre&gt;pip install -e &apos;.[export]&apos;
python main.py models export clip openai/clip-vit-base-patch32 --out clip-b32 \
    --text-model sentence-transformers/clip-ViT-B-32-multilingual-v1 --quantize int8
python main.py models export git microsoft/git-base-coco --out git-base&lt;/pre&gt;
&lt;p&gt;&lt;b&gt;clip-b32&lt;/b&gt; searches by meaning in Russian and English; &lt;b&gt;git-base&lt;/b&gt; writes descriptions.
Copy the folders (or zips of them) to this computer and install each with “Install model…” or
&lt;code&gt;imago models install clip-b32&lt;/code&gt;. Bundles are installed in &lt;code&gt;{models_dir}&lt;/code&gt;.&lt;/p&gt;</source>
        <translation>&lt;p&gt;Imago ничего не скачивает. Пакеты моделей готовят один раз на компьютере с доступом в интернет, в исходном коде Imago с дополнением &lt;code&gt;[export]&lt;/code&gt; (torch, transformers, optimum-onnx):&lt;/p&gt;
&lt;pre&gt;pip install -e &apos;.[export]&apos;
python main.py models export clip openai/clip-vit-base-patch32 --out clip-b32 \
    --text-model sentence-transformers/clip-ViT-B-32-multilingual-v1 --quantize int8
python main.py models export git microsoft/git-base-coco --out git-base&lt;/pre&gt;
&lt;p&gt;&lt;b&gt;clip-b32&lt;/b&gt; ищет по смыслу на русском и английском; &lt;b&gt;git-base&lt;/b&gt; пишет описания. Скопируйте папки (или их zip-архивы) на этот компьютер и установите каждую кнопкой «Установить модель…» или командой &lt;code&gt;imago models install clip-b32&lt;/code&gt;. Пакеты устанавливаются в &lt;code&gt;{models_dir}&lt;/code&gt;.&lt;/p&gt;</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/models_notice.py" line="54"/>
        <source>Install model…</source>
        <translation>Установить модель…</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/models_notice.py" line="55"/>
        <source>How to get model bundles; install one from a folder or zip</source>
        <translation>Как получить пакеты моделей; установка из папки или zip-архива</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/models_notice.py" line="57"/>
        <source>Hide this notice</source>
        <translation>Скрыть это сообщение</translation>
    </message>
</context>
<context>
    <name>ProblemPanel</name>
    <message>
        <location filename="../../desktop/widgets/problem_panel.py" line="14"/>
        <source>&lt;h2&gt;The archive folder is not available&lt;/h2&gt;
&lt;p&gt;&lt;code&gt;{archive}&lt;/code&gt; cannot be reached: it was renamed, moved or deleted, or the drive or
network share holding it is not connected. Browsing, searching and indexing are stopped.&lt;/p&gt;
&lt;p&gt;&lt;b&gt;What to do:&lt;/b&gt; connect the drive or share again, or give the folder back its name and place.
Imago checks every few seconds and carries on by itself when the folder is back. Descriptions and
labels you edit meanwhile are kept and written then.&lt;/p&gt;</source>
        <translation>&lt;h2&gt;Папка архива недоступна&lt;/h2&gt;
&lt;p&gt;Папка &lt;code&gt;{archive}&lt;/code&gt; недоступна: её переименовали, переместили или удалили, либо диск или
сетевая папка, где она находится, не подключены. Просмотр, поиск и индексирование остановлены.&lt;/p&gt;
&lt;p&gt;&lt;b&gt;Что делать:&lt;/b&gt; снова подключите диск или сетевую папку либо верните папке прежнее имя и место.
Imago проверяет это каждые несколько секунд и сам продолжит работу, когда папка вернётся. Описания и
метки, изменённые за это время, сохраняются и будут записаны тогда.&lt;/p&gt;</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/problem_panel.py" line="23"/>
        <source>&lt;h2&gt;The archive&apos;s index is damaged&lt;/h2&gt;
&lt;p&gt;The index file &lt;code&gt;{catalog}&lt;/code&gt; cannot be read: it is not a valid database any more.
Browsing, searching and indexing are stopped so that nothing wrong is shown.&lt;/p&gt;
&lt;p&gt;&lt;b&gt;What to do:&lt;/b&gt; restore the file from a backup (Imago carries on by itself once it can read it),
or index the archive again from scratch. The damaged file is then kept beside the new one, but the
descriptions and labels stored only in it are not carried over.&lt;/p&gt;</source>
        <translation>&lt;h2&gt;Индекс архива повреждён&lt;/h2&gt;
&lt;p&gt;Файл индекса &lt;code&gt;{catalog}&lt;/code&gt; не читается: это больше не исправная база данных.
Просмотр, поиск и индексирование остановлены, чтобы не показывать неверное.&lt;/p&gt;
&lt;p&gt;&lt;b&gt;Что делать:&lt;/b&gt; восстановите файл из резервной копии (Imago сам продолжит работу, как только
сможет его прочитать) или проиндексируйте архив заново. Повреждённый файл тогда сохранится рядом
с новым, но описания и метки, хранившиеся только в нём, не переносятся.&lt;/p&gt;</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/problem_panel.py" line="32"/>
        <source>&lt;h2&gt;The archive&apos;s index was deleted&lt;/h2&gt;
&lt;p&gt;The index file &lt;code&gt;{catalog}&lt;/code&gt; is gone. Browsing, searching and indexing are stopped.&lt;/p&gt;
&lt;p&gt;&lt;b&gt;What to do:&lt;/b&gt; restore the file from a backup (Imago carries on by itself once it is back),
or index the archive again from scratch; descriptions and labels stored only in the deleted file
are lost.&lt;/p&gt;</source>
        <translation>&lt;h2&gt;Индекс архива удалён&lt;/h2&gt;
&lt;p&gt;Файла индекса &lt;code&gt;{catalog}&lt;/code&gt; больше нет. Просмотр, поиск и индексирование остановлены.&lt;/p&gt;
&lt;p&gt;&lt;b&gt;Что делать:&lt;/b&gt; восстановите файл из резервной копии (Imago сам продолжит работу, когда он
вернётся) или проиндексируйте архив заново; описания и метки, хранившиеся только в удалённом файле,
будут потеряны.&lt;/p&gt;</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/problem_panel.py" line="42"/>
        <source>Archive not available — not watching</source>
        <translation>Архив недоступен — слежение остановлено</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/problem_panel.py" line="43"/>
        <source>Index damaged — not indexing</source>
        <translation>Индекс повреждён — индексирование остановлено</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/problem_panel.py" line="44"/>
        <source>Index deleted — not indexing</source>
        <translation>Индекс удалён — индексирование остановлено</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/problem_panel.py" line="70"/>
        <source>Check again</source>
        <translation>Проверить снова</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/problem_panel.py" line="71"/>
        <source>Index again from scratch</source>
        <translation>Проиндексировать заново</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/problem_panel.py" line="73"/>
        <source>Keep the damaged index file aside and index the archive anew</source>
        <translation>Отложить повреждённый файл индекса в сторону и проиндексировать архив заново</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/problem_panel.py" line="75"/>
        <source>Open another archive…</source>
        <translation>Открыть другой архив…</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/problem_panel.py" line="92"/>
        <source>Edits waiting to be written: {count}</source>
        <translation>Правок ждут записи: {count}</translation>
    </message>
</context>
<context>
    <name>QueryChip</name>
    <message>
        <location filename="../../desktop/widgets/query_chip.py" line="34"/>
        <source>Clear the search and browse</source>
        <translation>Сбросить поиск и вернуться к просмотру</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/query_chip.py" line="42"/>
        <source>Text:</source>
        <translation>Текст:</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/query_chip.py" line="44"/>
        <source>“{text}”</source>
        <translation>«{text}»</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/query_chip.py" line="49"/>
        <source>Similar to</source>
        <translation>Похожие на</translation>
    </message>
</context>
<context>
    <name>SearchController</name>
    <message>
        <location filename="../../desktop/controllers/search.py" line="117"/>
        <source>“{text}”</source>
        <translation>«{text}»</translation>
    </message>
    <message>
        <location filename="../../desktop/controllers/search.py" line="118"/>
        <source>similar to {name}</source>
        <translation>похожие на {name}</translation>
    </message>
    <message>
        <location filename="../../desktop/controllers/search.py" line="128"/>
        <source>the chosen image</source>
        <translation>выбранное изображение</translation>
    </message>
    <message>
        <location filename="../../desktop/controllers/search.py" line="140"/>
        <source>Open an archive first (File › Open archive…)</source>
        <translation>Сначала откройте архив (Файл › Открыть архив…)</translation>
    </message>
    <message>
        <location filename="../../desktop/controllers/search.py" line="150"/>
        <source>Searching {query}…</source>
        <translation>Поиск: {query}…</translation>
    </message>
    <message>
        <location filename="../../desktop/controllers/search.py" line="183"/>
        <source>No matches</source>
        <translation>Ничего не найдено</translation>
    </message>
    <message>
        <location filename="../../desktop/controllers/search.py" line="185"/>
        <source>No strong matches; the {count} closest shown</source>
        <translation>Хороших совпадений нет; показаны ближайшие: {count}</translation>
    </message>
    <message>
        <location filename="../../desktop/controllers/search.py" line="187"/>
        <source>Strong matches: {count}</source>
        <translation>Хороших совпадений: {count}</translation>
    </message>
    <message>
        <location filename="../../desktop/controllers/search.py" line="189"/>
        <source>; below the line, weaker ones: {count}</source>
        <translation>; ниже черты — более слабые: {count}</translation>
    </message>
    <message>
        <location filename="../../desktop/controllers/search.py" line="192"/>
        <source> — more below the relevance cut-off</source>
        <translation> — ещё есть ниже порога релевантности</translation>
    </message>
    <message>
        <location filename="../../desktop/controllers/search.py" line="194"/>
        <source> — more results exist</source>
        <translation> — есть и другие результаты</translation>
    </message>
</context>
<context>
    <name>SettingsDialog</name>
    <message>
        <location filename="../../desktop/dialogs/settings_dialog.py" line="36"/>
        <source>Automatic (GPU when usable)</source>
        <translation>Автоматически (GPU, если доступен)</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/settings_dialog.py" line="37"/>
        <source>CPU only</source>
        <translation>Только CPU</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/settings_dialog.py" line="38"/>
        <source>GPU (CUDA)</source>
        <translation>GPU (CUDA)</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/settings_dialog.py" line="41"/>
        <source>GIT base (faster)</source>
        <translation>GIT base (быстрее)</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/settings_dialog.py" line="42"/>
        <source>GIT large (better)</source>
        <translation>GIT large (качественнее)</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/settings_dialog.py" line="44"/>
        <source>System language</source>
        <translation>Язык системы</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/settings_dialog.py" line="80"/>
        <source>This computer: the GPU (CUDA) works.</source>
        <translation>Этот компьютер: GPU (CUDA) работает.</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/settings_dialog.py" line="86"/>
        <source>This computer: no GPU support; models run on the CPU.</source>
        <translation>Этот компьютер: поддержки GPU нет; модели работают на CPU.</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/settings_dialog.py" line="89"/>
        <source>This computer: could not check the devices (see the log).</source>
        <translation>Этот компьютер: не удалось проверить устройства (см. журнал).</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/settings_dialog.py" line="100"/>
        <source>Imago settings</source>
        <translation>Настройки Imago</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/settings_dialog.py" line="104"/>
        <source>This computer: checking the devices…</source>
        <translation>Этот компьютер: проверка устройств…</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/settings_dialog.py" line="170"/>
        <source>Advanced</source>
        <translation>Дополнительно</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/settings_dialog.py" line="177"/>
        <source>Automatic</source>
        <translation>Автоматически</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/settings_dialog.py" line="119"/>
        <source>Watch the archive for changes</source>
        <translation>Следить за изменениями в архиве</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/settings_dialog.py" line="82"/>
        <source>This computer: no usable GPU; models run on the CPU.</source>
        <translation>Этот компьютер: GPU недоступен; модели работают на CPU.</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/settings_dialog.py" line="114"/>
        <source>The language changes when Imago is next started.</source>
        <translation>Язык сменится при следующем запуске Imago.</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/settings_dialog.py" line="120"/>
        <source>Index new, changed, moved and deleted files as they happen</source>
        <translation>Индексировать новые, изменённые, перемещённые и удалённые файлы сразу</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/settings_dialog.py" line="122"/>
        <source>Never</source>
        <translation>Никогда</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/settings_dialog.py" line="123"/>
        <source> min</source>
        <translation> мин</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/settings_dialog.py" line="125"/>
        <source>Scan the whole archive again at this interval: for network shares, which often report no changes</source>
        <translation>Заново сканировать весь архив с этим интервалом: для сетевых папок, которые часто не сообщают об изменениях</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/settings_dialog.py" line="132"/>
        <source>Where the index of an archive you cannot write to (DVD, read-only share) is kept; empty: the default folder shown. Indexes already made stay where they are.</source>
        <translation>Где хранится индекс архива, в который нельзя писать (DVD, сетевая папка только для чтения); пусто — показанная папка по умолчанию. Уже созданные индексы остаются на месте.</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/settings_dialog.py" line="135"/>
        <source>Choose…</source>
        <translation>Выбрать…</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/settings_dialog.py" line="141"/>
        <source>Device</source>
        <translation>Устройство</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/settings_dialog.py" line="143"/>
        <source>Caption model</source>
        <translation>Модель подписей</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/settings_dialog.py" line="144"/>
        <source>Language</source>
        <translation>Язык</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/settings_dialog.py" line="148"/>
        <source>Rescan every</source>
        <translation>Сканировать заново каждые</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/settings_dialog.py" line="149"/>
        <location filename="../../desktop/dialogs/settings_dialog.py" line="214"/>
        <source>Index location for read-only archives</source>
        <translation>Папка индексов архивов только для чтения</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/settings_dialog.py" line="154"/>
        <source>Changes apply at once to search and to indexing (which restarts), the index location when a read-only archive is next opened, the language at the next start.</source>
        <translation>Изменения сразу применяются к поиску и индексации (она перезапускается), папка индексов — при следующем открытии архива только для чтения, язык — при следующем запуске.</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/settings_dialog.py" line="179"/>
        <source>How many processor cores each model may use at once; Automatic lets Imago choose.</source>
        <translation>Сколько ядер процессора может одновременно занимать каждая модель; «Автоматически» — выбирает Imago.</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/settings_dialog.py" line="183"/>
        <source>How many wordings a caption is chosen from: more gives slightly better captions, written more slowly.</source>
        <translation>Из скольких вариантов формулировки выбирается подпись: больше — подписи чуть лучше, но создаются медленнее.</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/settings_dialog.py" line="186"/>
        <source>Processor cores per model</source>
        <translation>Ядер процессора на модель</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/settings_dialog.py" line="187"/>
        <source>Caption wordings compared</source>
        <translation>Вариантов подписи для сравнения</translation>
    </message>
    <message>
        <location filename="../../desktop/dialogs/settings_dialog.py" line="207"/>
        <source>Settings not valid</source>
        <translation>Неверные настройки</translation>
    </message>
</context>
<context>
    <name>Units</name>
    <message>
        <location filename="../../desktop/widgets/formatting.py" line="13"/>
        <source>B</source>
        <translation>Б</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/formatting.py" line="14"/>
        <source>KiB</source>
        <translation>КиБ</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/formatting.py" line="15"/>
        <source>MiB</source>
        <translation>МиБ</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/formatting.py" line="16"/>
        <source>GiB</source>
        <translation>ГиБ</translation>
    </message>
</context>
<context>
    <name>Welcome</name>
    <message>
        <location filename="../../desktop/widgets/welcome.py" line="11"/>
        <source>&lt;h2&gt;Open an archive folder&lt;/h2&gt;
&lt;p&gt;Choose the folder holding your images. Imago shows them at once and indexes them in the background;
the index is kept in a &lt;code&gt;.imago&lt;/code&gt; folder inside it (or in your user data folder when the
archive is read-only). Your files are never changed, moved or deleted.&lt;/p&gt;</source>
        <translation>&lt;h2&gt;Откройте папку архива&lt;/h2&gt;
&lt;p&gt;Выберите папку с изображениями. Imago сразу покажет их и проиндексирует в фоне; индекс хранится в папке &lt;code&gt;.imago&lt;/code&gt; внутри неё (или в папке данных пользователя, если архив только для чтения). Ваши файлы никогда не изменяются, не перемещаются и не удаляются.&lt;/p&gt;</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/welcome.py" line="33"/>
        <source>Open archive…</source>
        <translation>Открыть архив…</translation>
    </message>
    <message>
        <location filename="../../desktop/widgets/welcome.py" line="36"/>
        <source>&lt;b&gt;Opened recently&lt;/b&gt;</source>
        <translation>&lt;b&gt;Недавние архивы&lt;/b&gt;</translation>
    </message>
</context>
</TS>
